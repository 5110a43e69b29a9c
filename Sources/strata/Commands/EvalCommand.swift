import ArgumentParser
import Foundation
import Strata

struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate the current topics: agreement with a truth field, geometry, label fidelity, keyword coherence.",
        discussion: """
            With --truth FIELD: NMI, ARI, purity and the classes each topic mixes. Always: sampled silhouette, \
            Calinski–Harabasz and Davies–Bouldin in the fitted space, per-topic cohesion and separation, label \
            fidelity (every document goes to the nearest embedded `label. description`; the share that lands on \
            its own topic), keyword coherence (NPMI of the top keywords over the corpus) and topic diversity. \
            The headline figures are also written to topics.json's quality.evaluation.
            """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var log: LogOptions

    @Option(help: "Field holding each document's true class.")
    var truth: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        try await reportingErrors {
            let options = try RunOptions(source)
            let report = try await Evaluation.run(options, truth: truth, reporter: log.quiet || json ? SilentReporter() : log.reporter)
            try Evaluation.record(report, stateDirectory: options.stateDirectory)
            if json {
                try printJSON(report, escapingSlashes: false)
            } else {
                print(EvaluationTable.render(report))
            }
        }
    }
}
