import Foundation
@testable import Strata
import StrataEmbed
import StrataLinalg
import StrataStore
import Testing

@Suite("corpus-fitted static table (--embedder fitted)", .serialized)
struct FittedEmbedderTests {
    @Test("spec: fitted and fitted:DIGEST parse and print back; anything else after fitted: is a usage error")
    func spec() throws {
        #expect(try EmbedderSpec.parse("fitted") == .fitted(nil))
        #expect(try EmbedderSpec.parse("fitted:0123456789abcdef") == .fitted("0123456789abcdef"))
        #expect(EmbedderSpec.fitted("0123456789abcdef").description == "fitted:0123456789abcdef")
        #expect(EmbedderSpec.fitted(nil).description == "fitted")
        #expect(throws: StrataError.self) { try EmbedderSpec.parse("fitted:xyz") }
    }

    @Test("sample: the distinct texts with the smallest hashes, at least 2,000 of them, the same whatever the order")
    func sample() {
        let docs = (0..<5_000).map { Document(id: "d\($0)", text: "text \($0 % 4_000)") }
        let s = FittedEmbedding.sample(docs, share: 0.05)
        #expect(s.count == 2_000)
        #expect(Set(s.map(\.contentHash)).count == 2_000)
        #expect(Set(FittedEmbedding.sample(docs.reversed(), share: 0.05).map(\.contentHash)) == Set(s.map(\.contentHash)))
        #expect(FittedEmbedding.sample(docs, share: 1).count == 4_000)
        #expect(FittedEmbedding.sample(Array(docs.prefix(50)), share: 0.05).count == 50)
    }

    @Test("--shared with fitted is a usage error that says to use static")
    func sharedRefused() async throws {
        var options = RunOptions(source: .jsonl("/tmp/none.jsonl"), stateDirectory: makeTempDir())
        options.embedder = .fitted(nil)
        options.shared = "postgres://localhost/none"
        let state = try StateDatabase(directory: options.stateDirectory)
        await #expect { try await FittedEmbedding.resolve(options, documents: [], state: state, reporter: SilentReporter()) } throws: {
            ($0 as? StrataError)?.kind == .usage && "\($0)".contains("--embedder static")
        }
    }

    @Test("a run fits on MiniLM vectors of the sample, commits the fit, embeds as normalise(static · W) (|Δ| ≤ 1e-5), and the next run reuses it")
    func runFitsAndReuses() async throws {
        let dir = makeTempDir(), input = dir + "/docs.jsonl"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeSample("fortunes-3000.jsonl", count: 3_000, to: input)
        var options = RunOptions(source: .jsonl(input))
        options.embedder = .fitted(nil)
        options.k = .fixed(8)
        let first = try await Pipeline.run(options)
        let name = first.document.run.embedder.name
        #expect(name.hasPrefix("fitted:") && name.count == 23, "name \(name)")
        #expect(first.document.run.embedder.fingerprint.hasPrefix("fitted:all-MiniLM-L6-v2:"))
        #expect(first.document.run.embedder.dimension == 384)
        let state = try StateDatabase(directory: options.stateDirectory)
        let fit = try JSONDecoder().decode(CorpusFit.self, from: try #require(try state.current(FittedEmbedding.key)))
        #expect(fit.sampleDocuments == 2_000 && fit.inputDimension == 256 && fit.outputDimension == 384)
        #expect(CorpusFit.ridgeCandidates.contains(fit.ridge) && fit.heldOutCosine > 0.5, "λ \(fit.ridge), cos \(fit.heldOutCosine)")
        #expect("fitted:" + FittedEmbedding.digest(fit) == name)

        // Independently of the folded table: W applied to the base embedder's unit vectors, in Double.
        let base = try EmbeddingStage.staticEmbedder(dimension: 256)
        let fitted = try #require(try EmbeddingStage.makeEmbedder(try EmbedderSpec.parse(name), baseURL: options.embeddingBaseURL))
        let texts = try sampleRecords("fortunes-3000.jsonl", count: 20).map { $0["text"] as! String } + [""]
        let s = try await base.embed(texts, progress: nil), v = try await fitted.embed(texts, progress: nil)
        var worst = 0.0
        for i in 0..<texts.count {
            var z = [Double](repeating: 0, count: 384)
            for (a, sa) in s.row(i).enumerated() { for j in 0..<384 { z[j] += Double(sa) * Double(fit.weights[a * 384 + j]) } }
            let norm = z.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for (j, x) in v.row(i).enumerated() { worst = max(worst, abs(Double(x) - z[j] / norm)) }
        }
        #expect(worst <= 1e-5, "max |Δ| = \(worst)")

        let second = try await Pipeline.run(options)
        #expect(second.document.run.embedder.name == name)
        #expect(second.document.run.counts.embedded == 0)
        var other = options
        other.fittedShare = 0.9
        let third = try await Pipeline.run(other)
        #expect(third.document.run.embedder.name != name)
        #expect(third.document.run.mode == "full")
    }

    @Test("a fresh process reads the fit from the state: search and assign --text embed with it", .needsReleaseBinary)
    func freshProcess() async throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let dir = makeTempDir(), input = dir + "/docs.jsonl"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeSample("wordnet-nouns-3000.jsonl", count: 2_500, to: input)
        let r = try runProcess(bin, ["run", input, "--k", "6", "--embedder", "fitted", "--quiet"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let search = try runProcess(bin, ["search", "animals that live in water", "-k", "3", "--state", dir + "/.strata", "--json"])
        #expect(search.status == 0, "stderr: \(search.stderr)")
        #expect(((try? JSONSerialization.jsonObject(with: Data(search.stdout.utf8))) as? [Any])?.count == 3, "stdout: \(search.stdout)")
        let assign = try runProcess(bin, ["assign", "--text", "a large fish of the open sea", "--state", dir + "/.strata"])
        #expect(assign.status == 0, "stderr: \(assign.stderr)")
        let embed = try runProcess(bin, ["embed", input, "--embedder", "fitted:0123456789abcdef", "--out", dir + "/x.npy", "--state", dir + "/.strata"])
        #expect(embed.status == 2 && embed.stderr.contains("--state"), "status \(embed.status), stderr: \(embed.stderr)")
    }
}
