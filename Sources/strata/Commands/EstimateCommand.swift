import ArgumentParser
import Foundation
import Strata
import StrataLabel
import StrataLinalg
import StrataStore

struct EstimateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate",
        abstract: "Tokens and dollars a run would spend (embedding + labeling), before spending anything.")

    @OptionGroup var source: SourceOptions

    @OptionGroup var topics: TopicCountOption

    @OptionGroup var labeling: LabelerOptions

    @Flag(help: "Machine-readable output.")
    var json = false

    @Flag(help: "Approximate prompt sizes from a sample instead of replaying the fit (no embedding).")
    var quick = false

    @OptionGroup var log: LogOptions

    func run() async throws {
        try await reportingErrors {
            var options = try RunOptions(source)
            options.k = topics.k
            try labeling.apply(to: &options)
            let e = try await Estimator.estimate(options, quick: quick, reporter: log.reporter)
            if json {
                let obj: [String: Any] = [
                    "documents": e.documents, "to_embed": e.toEmbed, "cached": e.cached, "embedding_tokens": e.embeddingTokens,
                    "embedding_cost_usd": e.embeddingCost as Any, "k_assumed": e.kAssumed, "llm_calls": e.llmCalls,
                    "llm_input_tokens": e.llmInputTokens, "llm_output_tokens": e.llmOutputTokens,
                    "llm_cost_usd": e.llmCost as Any, "total_cost_usd": e.totalCost as Any, "notes": e.notes,
                    "llm_prompts": e.llmPrompts, "llm_first_attempt_input_tokens": e.llmFirstAttemptInputTokens,
                    "exact_prompts": e.exactPrompts, "calibration": e.calibration,
                ]
                print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
            } else {
                print(e.render())
            }
        }
    }
}
