import Foundation
import StrataEmbed
import StrataLinalg
import StrataStore

/// `strata distill`: makes the static embedder's table from the MiniLM model in the cache, once.
public enum Distillation {
    /// What a call did.
    public enum Outcome: Sendable, Equatable {
        /// The table at this path was already made from these model files by this recipe.
        case upToDate(String)
        /// A table was written to this path (sha256 of its bytes).
        case written(String, sha256: String)
    }

    /// SHA-256 over the bytes of `model.safetensors`, then `vocab.txt`, of the model directory: what
    /// a table's `strata.source_sha256` records. O(model size), ~0.3 s for MiniLM.
    public static func sourceDigest(modelDirectory: URL) throws -> String {
        var bytes = [UInt8]()
        for name in ["model.safetensors", "vocab.txt"] {
            let url = modelDirectory.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw StrataError(.failed, "\(url.path) is missing or unreadable; run scripts/fetch-model.sh to download all-MiniLM-L6-v2")
            }
            bytes += SHA256.digest(data)
        }
        return SHA256.hexDigest(bytes)
    }

    /// Distils the table of `recipe` into `output` (default: ``StaticTable/defaultURL(dimension:environment:)``)
    /// unless a table there already has the same source digest and recipe, or `force` is set.
    /// Cancellable (SIGTERM/SIGINT): stops between encoder batches and writes nothing.
    public static func run(recipe: StaticRecipe, output: URL? = nil, force: Bool = false,
                           modelDirectory: URL = MiniLMEncoder.defaultModelDirectory(), reporter: RunReporter) async throws -> Outcome {
        let url = output ?? StaticTable.defaultURL(dimension: recipe.dimension)
        let digest = try sourceDigest(modelDirectory: modelDirectory)
        if !force, let old = try? StaticTable(contentsOf: url),
           old.provenance["strata.source_sha256"] == digest, old.provenance["strata.recipe"] == recipe.description {
            return .upToDate(url.path)
        }
        reporter.stage("distill \(recipe.dimension)-d static table from \(modelDirectory.lastPathComponent)")
        let encoder = try MiniLMEncoder(modelDirectory: modelDirectory)
        let table = try await StopFlag.whileRunning { flag in
            try StaticDistiller.distill(encoder: encoder, recipe: recipe, sourceDigest: digest, stop: flag) { done, total in
                reporter.progress("distill", done: done, total: total)
            }
        }
        reporter.stage("write \(url.path)")
        try table.write(to: url)
        return .written(url.path, sha256: SHA256.hexDigest([UInt8](table.serialized())))
    }
}
