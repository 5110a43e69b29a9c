import ArgumentParser
import Foundation
import Strata

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Semantic search restricted by topic (the filter retrieval tools apply).")

    @Argument(help: "The query text.")
    var query: String

    @Option(name: .long, help: "Topic id or label to search in (repeatable).")
    var topic: [String] = []

    @Option(name: .long, help: "Parent topic id (from --tree) to search in (repeatable).")
    var parent: [Int] = []

    @Option(name: .customShort("k"), help: "Number of results.")
    var k = 10

    @OptionGroup var served: ServedStateOptions

    @Flag(help: "JSON output.")
    var json = false

    func run() async throws {
        try await reportingErrors {
            guard k >= 1 else { throw StrataError(.usage, "-k must be ≥ 1") }
            let index = try SearchIndex(stateDirectory: served.state, embeddingBaseURL: served.embeddingBaseURL)
            let filter = try index.resolve(topics: topic, parents: parent)
            let hits = try index.search(vector: try await index.embedQuery(query), filter: filter, k: k)
            if json {
                try printJSON(hits)
            } else {
                for h in hits {
                    let snippet = h.snippet.replacingOccurrences(of: "\n", with: " ").prefix(100)
                    print(String(format: "%.4f", h.score) + "  [\(h.topicID)] \(h.id)  \(snippet)")
                }
            }
        }
    }
}
