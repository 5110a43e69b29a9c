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

    @Option(help: "State directory of the run to search.")
    var state = ".strata"

    @Option(help: "Base URL of the embeddings server when the run used openai:MODEL.")
    var embeddingBaseURL = "https://api.openai.com/v1"

    @Flag(help: "JSON output.")
    var json = false

    func run() async throws {
        try await reportingErrors {
            guard k >= 1 else { throw StrataError(.usage, "-k must be ≥ 1") }
            let index = try SearchIndex(stateDirectory: state, embeddingBaseURL: try baseURL(embeddingBaseURL, option: "--embedding-base-url"))
            let filter = try index.resolve(topics: topic, parents: parent)
            let hits = try index.search(vector: try await index.embedQuery(query), filter: filter, k: k)
            if json {
                let e = JSONEncoder()
                e.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try e.encode(hits), as: UTF8.self))
            } else {
                for h in hits {
                    let snippet = h.snippet.replacingOccurrences(of: "\n", with: " ").prefix(100)
                    print(String(format: "%.4f", h.score) + "  [\(h.topicID)] \(h.id)  \(snippet)")
                }
            }
        }
    }
}
