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
            Always: the labels' shape (median words, one-word share, duplicates) and parents that join two \
            children's labels. With --class-descriptions FILE (corpora/classes/*.json; its field is the truth \
            field unless --truth says otherwise): the class match, the share of clean topics (majority class \
            ≥ 50% of their documents) whose label's embedding is nearest that class's description. With \
            --labels FILE ({"topics": [{"id", "label", "description"}]}, e.g. a peer's names): those labels \
            are measured instead of the published ones and nothing is recorded. Otherwise the headline \
            figures are also written to topics.json's quality.evaluation.
            """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var log: LogOptions

    @Option(help: "Field holding each document's true class.")
    var truth: String?

    @Option(name: .customLong("class-descriptions"), help: "JSON file of plain-words descriptions of the truth classes (class match).")
    var classDescriptions: String?

    @Option(help: "JSON file of another labeler's names for the current topics, measured instead of the published labels.")
    var labels: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        try await reportingErrors {
            let options = try RunOptions(source)
            let classes = try classDescriptions.map(ClassDescriptions.load)
            let overrides = try labels.map(LabelOverrides.load)
            let report = try await Evaluation.run(options, truth: truth, classes: classes, labels: overrides,
                                                  reporter: log.quiet || json ? SilentReporter() : log.reporter)
            if overrides == nil { try Evaluation.record(report, stateDirectory: options.stateDirectory) }
            if json {
                try printJSON(report, escapingSlashes: false)
            } else {
                print(EvaluationTable.render(report))
            }
        }
    }
}
