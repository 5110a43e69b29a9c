import ArgumentParser
import StrataLinalg

@main
struct StrataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Turn a pile of documents into topics that retrieval tools can filter on.",
        discussion: """
            Strata embeds documents (MiniLM on OpenBLAS by default), reduces them with PCA, clusters \
            them with k-means, names each cluster, and writes topic columns back where the documents live.
            See README.md for the commands that are available in this version.
            """,
        version: strataVersion,
        subcommands: []
    )
}
