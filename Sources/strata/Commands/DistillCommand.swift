import ArgumentParser
import Foundation
import Strata
import StrataEmbed

struct DistillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Make the static embedder's table (--embedder static) from the MiniLM model in the cache: every vocabulary entry through MiniLM, PCA, SIF weights. Once; deterministic; does nothing when the table is up to date.")

    @Option(help: "Columns of the table (principal components kept, 1…384). --embedder static:DIM uses a table of DIM columns.")
    var dimension = EmbedderSpec.defaultStaticDimension

    @Option(help: "SIF coefficient a of the token weights a/(a + p), p from a Zipf law over vocabulary ranks.")
    var sif = StaticRecipe().sifCoefficient

    @Option(help: "Where to write the table (default: $STRATA_HOME/models/minilm-static/static-DIM.safetensors, where --embedder static reads it).")
    var out: String?

    @Flag(help: "Distill again even when the table is up to date.")
    var force = false

    @OptionGroup var log: LogOptions

    func validate() throws {
        guard (1...384).contains(dimension) else { throw ValidationError("--dimension \(dimension) is outside 1…384") }
        guard sif > 0, sif.isFinite else { throw ValidationError("--sif must be a positive number (default 3e-5)") }
    }

    func run() async throws {
        try await reportingErrors(log: log) {
            let start = Date()
            let recipe = StaticRecipe(dimension: dimension, sifCoefficient: sif)
            let outcome = try await Distillation.run(recipe: recipe, output: out.map { URL(fileURLWithPath: $0) },
                                                     force: force, reporter: log.reporter)
            switch outcome {
            case .upToDate(let path):
                log.reporter.info("\(path) is up to date (same model files, same recipe); --force distills again")
            case .written(let path, let sha):
                log.reporter.info(String(format: "wrote %@ (sha256 %@) in %.1f s", path, sha, Date().timeIntervalSince(start)))
            }
        }
    }
}
