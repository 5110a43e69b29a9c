import Foundation
import Strata
import StrataEmbed
import StrataStore
import Testing

/// One distillation of the real MiniLM for the whole suite (20–40 s), into a temporary folder.
private actor DistilledTable {
    static let shared = DistilledTable()
    private var made: (url: URL, sha: String)?

    func get() async throws -> (url: URL, sha: String) {
        if let made { return made }
        let url = URL(fileURLWithPath: makeTempDir()).appendingPathComponent("static-256.safetensors")
        guard case .written(_, let sha) = try await Distillation.run(recipe: StaticRecipe(), output: url, force: true,
                                                                    reporter: SilentReporter()) else {
            throw StrataError(.failed, "distillation did not write \(url.path)")
        }
        made = (url, sha)
        return (url, sha)
    }
}

@Suite("static embedder distilled from MiniLM", .serialized)
struct StaticEmbedderTests {
    @Test("`strata distill` twice writes the same bytes; the table records model digest, recipe and dimension; up to date does nothing",
          .needsReleaseBinary)
    func deterministic() async throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        // Separate processes, as users run it: in this test process other suites change OpenBLAS's thread count.
        let dir = makeTempDir(), a = dir + "/a.safetensors", b = dir + "/b.safetensors"
        for out in [a, b] {
            let r = try runProcess(bin, ["distill", "--out", out, "--force", "--quiet"])
            #expect(r.status == 0, "stderr: \(r.stderr)")
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: a))
        #expect(bytes == (try Data(contentsOf: URL(fileURLWithPath: b))))
        let table = try StaticTable(contentsOf: URL(fileURLWithPath: a))
        #expect(table.vocabularySize == 30522 && table.dimension == 256)
        #expect(table.serialized() == bytes)
        let digest = try Distillation.sourceDigest(modelDirectory: MiniLMEncoder.defaultModelDirectory())
        #expect(table.provenance["strata.source_sha256"] == digest)
        #expect(table.provenance["strata.recipe"] == StaticRecipe().description)
        #expect(table.provenance["strata.dimension"] == "256")
        let again = try runProcess(bin, ["distill", "--out", a])
        #expect(again.status == 0 && again.stderr.contains("up to date"), "stderr: \(again.stderr)")
        let outcome = try await Distillation.run(recipe: StaticRecipe(), output: URL(fileURLWithPath: b), reporter: SilentReporter())
        #expect(outcome == .upToDate(b))
    }

    @Test("a static vector equals NumPy's normalised sum of the stored rows of the tokenizer's ids (|Δ| ≤ 2e-6)")
    func matchesNumPy() async throws {
        let (url, _) = try await DistilledTable.shared.get()
        let embedder = try StaticEmbedder(table: try StaticTable(contentsOf: url),
                                          vocabularyURL: MiniLMEncoder.defaultModelDirectory().appendingPathComponent("vocab.txt"))
        let texts = try sampleRecords("fortunes-3000.jsonl", count: 40).map { $0["text"] as! String }
            + ["", "   ", "naïve café — unrecognisable ☃ symbols", String(repeating: "word ", count: 700)]
        let ids = texts.map { t -> [Int32] in let e = embedder.tokenizer.encode(t); return Array(e.dropFirst().dropLast()) }
        let dir = makeTempDir()
        let request = try JSONSerialization.data(withJSONObject: ["unk": Int(embedder.tokenizer.unkID), "ids": ids.map { $0.map(Int.init) }])
        try request.write(to: URL(fileURLWithPath: dir + "/ids.json"))
        let r = try runProcess("/usr/bin/env", ["python3", repoRoot.appendingPathComponent("scripts/reference/static_embed.py").path,
                                                url.path, dir + "/ids.json"])
        #expect(r.status == 0, "reference script failed: \(r.stderr)")
        guard r.status == 0 else { return }
        let reference = (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any])["vectors"] as! [[Double]]
        let batch = try await embedder.embed(texts, progress: nil)
        #expect(batch.count == texts.count && batch.dimension == 256)
        var worst = 0.0
        for (i, ref) in reference.enumerated() {
            for (a, b) in zip(batch.row(i), ref) { worst = max(worst, abs(Double(a) - b)) }
        }
        print("static embedder vs NumPy: max |Δ| = \(worst) over \(texts.count) texts × 256")
        #expect(worst <= 2e-6)
        #expect(ids[texts.count - 1].count == StaticEmbedder.maxTokens)   // 700 words truncated to 510 pieces
    }

    @Test("recipe pieces: placeholders are [unusedN] only; SIF weights rise with rank and stay in (0, 1)")
    func recipePieces() {
        #expect(StaticDistiller.isPlaceholder("[unused0]") && StaticDistiller.isPlaceholder("[unused993]"))
        for t in ["[UNK]", "[CLS]", "unused", "[unused]", "[unusedx]", "the"] { #expect(!StaticDistiller.isPlaceholder(t)) }
        let w = StaticDistiller.zipfWeights(count: 30_000, coefficient: 3e-5)
        #expect(zip(w, w.dropFirst()).allSatisfy { $0 < $1 })
        #expect(w.first! > 0 && w.last! < 1)
        // p(rank 1) = 1/H(30000) ≈ 0.0932, so w = 3e-5 / (3e-5 + 0.0932) ≈ 3.2e-4.
        #expect(abs(Double(w[0]) - 3e-5 / (3e-5 + 1 / 10.886185)) < 1e-6)
    }

    @Test("a missing or corrupt table is a clear error naming the file and `strata distill`")
    func badTable() async throws {
        let dir = makeTempDir()
        let missing = URL(fileURLWithPath: dir + "/none.safetensors")
        #expect { try StaticTable(contentsOf: missing) } throws: { e in
            (e as? EmbedError)?.code == .staticTableMissing && "\(e)".contains(missing.path) && "\(e)".contains("strata distill")
        }
        let (url, _) = try await DistilledTable.shared.get()
        let data = try Data(contentsOf: url)
        let cut = URL(fileURLWithPath: dir + "/cut.safetensors")
        try data.prefix(data.count / 2).write(to: cut)
        #expect { try StaticTable(contentsOf: cut) } throws: { e in
            (e as? EmbedError)?.code == .staticTableInvalid && "\(e)".contains(cut.path) && "\(e)".contains("strata distill")
        }
        let garbage = URL(fileURLWithPath: dir + "/garbage.safetensors")
        try Data("not a table".utf8).write(to: garbage)
        #expect { try StaticTable(contentsOf: garbage) } throws: { e in (e as? EmbedError)?.code == .staticTableInvalid }
    }

    @Test("static and MiniLM vectors never mix: switching the embedder on one state embeds everything again and refits",
          .needsReleaseBinary)
    func switchingRefits() async throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let (url, _) = try await DistilledTable.shared.get()
        // A Strata home with the real model and the distilled table where --embedder static looks.
        let home = makeTempDir()
        try FileManager.default.createDirectory(atPath: home + "/models/minilm-static", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: home + "/models/all-MiniLM-L6-v2",
                                                   withDestinationPath: MiniLMEncoder.defaultModelDirectory().path)
        try FileManager.default.copyItem(at: url, to: URL(fileURLWithPath: home + "/models/minilm-static/static-256.safetensors"))
        let env = ["STRATA_HOME": home]
        let dir = makeTempDir(), input = dir + "/docs.jsonl"
        try writeSample("wordnet-nouns-3000.jsonl", count: 400, to: input)
        func counts() throws -> (embedder: String, mode: String, embedded: Int, cached: Int) {
            let t = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json"))) as! [String: Any]
            let run = t["run"] as! [String: Any], c = run["counts"] as! [String: Any]
            return ((run["embedder"] as! [String: Any])["name"] as! String, run["mode"] as? String ?? "?",
                    c["embedded"] as! Int, c["cached"] as! Int)
        }
        let s1 = try runProcess(bin, ["run", input, "--k", "6", "--embedder", "static", "--quiet"], environment: env)
        #expect(s1.status == 0, "stderr: \(s1.stderr)")
        #expect(try counts() == ("static", "full", 400, 0))
        let m = try runProcess(bin, ["run", input, "--k", "6", "--quiet"], environment: env)
        #expect(m.status == 0, "stderr: \(m.stderr)")
        #expect(try counts() == ("minilm", "full", 400, 0))
        let s2 = try runProcess(bin, ["run", input, "--k", "6", "--embedder", "static", "--quiet"], environment: env)
        #expect(s2.status == 0, "stderr: \(s2.stderr)")
        #expect(try counts() == ("static", "full", 0, 400))
        // Search and assign --text embed the query with the run's embedder, statically.
        let search = try runProcess(bin, ["search", "animals that live in water", "-k", "3", "--state", dir + "/.strata", "--json"], environment: env)
        #expect(search.status == 0, "stderr: \(search.stderr)")
        #expect(((try? JSONSerialization.jsonObject(with: Data(search.stdout.utf8))) as? [Any])?.count == 3, "stdout: \(search.stdout)")
        let assign = try runProcess(bin, ["assign", "--text", "a small freshwater fish", "--state", dir + "/.strata"], environment: env)
        #expect(assign.status == 0, "stderr: \(assign.stderr)")
        // Without the table: exit 1 naming the file and the command that makes it.
        try FileManager.default.removeItem(atPath: home + "/models/minilm-static/static-256.safetensors")
        let gone = try runProcess(bin, ["run", input, "--k", "6", "--embedder", "static", "--quiet"], environment: env)
        #expect(gone.status == 1)
        #expect(gone.stderr.contains("static-256.safetensors") && gone.stderr.contains("strata distill"), "stderr: \(gone.stderr)")
    }
}
