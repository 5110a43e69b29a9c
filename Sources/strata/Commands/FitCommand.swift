import ArgumentParser
import Foundation
import Strata
import StrataLabel

/// `strata fit`: the one-node step of the sharded nightly (embed array → fit → assign array).
struct FitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Sharded nightly, step 2 of 3: fit topics over the vectors the embed shards stored, and publish them for the assign shards.",
        discussion: """
            `strata run` on one node, except that every vector comes from the shared store (`strata embed --shared` \
            shards stored them) and the rows are left to `strata assign --shared` shards: the fit publishes the model, \
            topics and every document's assignment to the store and rewrites strata_topics. Refuses (exit 5) while an \
            embed shard of the last shard count is unfinished or a document has no vector, naming the shards to rerun. \
            --state must persist between nights (it holds the previous topics that keep ids stable).
            """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var log: LogOptions
    @OptionGroup var arguments: RunArguments

    @Option(help: "PostgreSQL URL of the store the sharded steps share (schema strata): postgres://USER@HOST:PORT/DB.")
    var shared: String

    func run() async throws {
        if arguments.maxCost != nil {
            throw ValidationError("--max-cost does not apply to `strata fit` (the embed shards spent the embedding): run `strata estimate SOURCE` for the labeling cost")
        }
        try await arguments.run(log: log) {
            var options = try arguments.options(source)
            options.shared = shared
            return options
        }
    }
}
