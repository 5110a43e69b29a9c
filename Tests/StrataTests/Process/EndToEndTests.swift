import Foundation
import StrataLinalg
import StrataStore
import Testing

@Suite("strata run end to end (release CLI)", .serialized, .needsReleaseBinary)
struct EndToEndTests {
    @Test("keyword labels on JSONL: topic file beside the input, topics.json, second run embeds nothing")
    func keywordRunJSONL() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let dir = makeTempDir()
        let records = try sampleRecords("wordnet-nouns-3000.jsonl", count: 600)
        let input = dir + "/nouns.jsonl"
        try records.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
            .joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let r = try runProcess(bin, ["run", input, "--k", "8", "--quiet"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let out = try String(contentsOfFile: dir + "/nouns.topics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(out.count == 600)
        let first = try JSONSerialization.jsonObject(with: Data(out[0].utf8)) as! [String: Any]
        #expect(first["topic_id"] is Int && first["topic_label"] is String && first["lexname"] is String)
        let topics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json"))) as! [String: Any]
        #expect((topics["topics"] as! [Any]).count == 8)
        #expect((topics["run"] as! [String: Any])["counts"].map { ($0 as! [String: Any])["embedded"] as! Int } == 600)
        // Unchanged input: nothing embedded again.
        let again = try runProcess(bin, ["run", input, "--k", "8", "--quiet"])
        #expect(again.status == 0)
        let t2 = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json"))) as! [String: Any]
        let counts = (t2["run"] as! [String: Any])["counts"] as! [String: Any]
        #expect(counts["embedded"] as! Int == 0 && counts["cached"] as! Int == 600)

        // Topic-filtered search equals a brute-force ranking over the same vectors.
        let topicList = t2["topics"] as! [[String: Any]]
        let target = topicList[1]
        let members = Set(target["document_ids"] as! [String])
        let query = "animals that live in water"
        let k = 7
        let hitsOut = try runProcess(bin, ["search", query, "--topic", String(target["id"] as! Int), "-k", String(k),
                                           "--state", dir + "/.strata", "--json"])
        #expect(hitsOut.status == 0, "stderr: \(hitsOut.stderr)")
        let hits = try JSONSerialization.jsonObject(with: Data(hitsOut.stdout.utf8)) as! [[String: Any]]
        #expect(hits.count == min(k, members.count))
        #expect(hits.allSatisfy { members.contains($0["id"] as! String) && $0["topic_id"] as! Int == target["id"] as! Int })
        // Reference: every vector via `strata embed`, the query through the same encoder, cosine, sort.
        let q = dir + "/q.jsonl"
        try #"{"id": "q", "text": "\#(query)"}"#.write(toFile: q, atomically: true, encoding: .utf8)
        #expect(try runProcess(bin, ["embed", input, "--out", dir + "/all.npy", "--state", dir + "/.strata", "--quiet"]).status == 0)
        #expect(try runProcess(bin, ["embed", q, "--out", dir + "/q.npy", "--state", dir + "/.strata", "--quiet"]).status == 0)
        let all = try NPY.readMatrix(from: URL(fileURLWithPath: dir + "/all.npy"))
        let qv = try NPY.readMatrix(from: URL(fileURLWithPath: dir + "/q.npy"))
        var reference: [(String, Double)] = []
        for (i, r) in records.enumerated() where members.contains(r["id"] as! String) {
            var dot = 0.0
            for j in 0..<all.cols { dot += Double(all[i, j]) * Double(qv[0, j]) }
            reference.append((r["id"] as! String, dot))
        }
        reference.sort { $0.1 > $1.1 }
        #expect(hits.map { $0["id"] as! String } == reference.prefix(k).map(\.0))
        for (h, r) in zip(hits, reference) { #expect(abs((h["score"] as! Double) - r.1) < 1e-4) }
    }

    @Test("a state held by a live run: exit 4; a stale lock is taken over with a warning")
    func lock() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let dir = makeTempDir()
        let records = try sampleRecords("fortunes-3000.jsonl", count: 60)
        let input = dir + "/f.jsonl"
        try records.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
            .joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/.strata", withIntermediateDirectories: true)
        let host = ProcessInfo.processInfo.hostName
        try "pid \(getpid()) on \(host), since now".write(toFile: dir + "/.strata/lock", atomically: true, encoding: .utf8)
        let held = try runProcess(bin, ["run", input, "--k", "3", "--quiet"])
        #expect(held.status == 4, "stderr: \(held.stderr)")
        #expect(held.stderr.contains("another strata run holds"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/f.topics.jsonl"))
        // The refused run leaves the holder's lock in place.
        #expect(try String(contentsOfFile: dir + "/.strata/lock", encoding: .utf8).hasPrefix("pid \(getpid())"))
        try "pid 2147483000 on \(host), since then".write(toFile: dir + "/.strata/lock", atomically: true, encoding: .utf8)
        let stale = try runProcess(bin, ["run", input, "--k", "3"])
        // A takeover is a warning: exit 3, and it is in run.warnings (README: warnings mean exit 3).
        #expect(stale.status == 3, "stderr: \(stale.stderr)")
        #expect(stale.stderr.contains("took over a stale lock"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/.strata/lock"))
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json"))) as! [String: Any]
        #expect(((doc["run"] as! [String: Any])["warnings"] as! [String]).contains { $0.contains("stale lock") })
        // An empty lock file (a crash between creating and writing it) blocks only while it is fresh.
        _ = FileManager.default.createFile(atPath: dir + "/.strata/lock", contents: Data())
        let fresh = try runProcess(bin, ["run", input, "--k", "3", "--quiet"])
        #expect(fresh.status == 4 && fresh.stderr.contains("unknown owner"), "stderr: \(fresh.stderr)")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: dir + "/.strata/lock")
        let old = try runProcess(bin, ["run", input, "--k", "3", "--quiet", "--full"])
        #expect(old.status == 3 && old.stderr.contains("empty lock file"), "stderr: \(old.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/.strata/lock"))
    }

    @Test("malformed input: exit 1, error names file and line, no partial output")
    func malformedInput() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let dir = makeTempDir()
        let input = dir + "/bad.jsonl"
        try "{\"id\": \"a\", \"text\": \"one\"}\n{\"id\": \"b\", \"text\": \"two\"}\n{\"id\": \"c\", \"text\": \"thr\n".write(toFile: input, atomically: true, encoding: .utf8)
        let r = try runProcess(bin, ["run", input, "--k", "2", "--quiet"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(input):3:"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad.topics.jsonl"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/.strata/topics.json"))
        let usage = try runProcess(bin, ["run", input, "--k", "zero"])
        #expect(usage.status == 2)
    }

    @Test("real local LLM: strata estimate predicts the prompts and first-attempt input tokens of the run within 5%", .needsLLM)
    func estimateMatchesRun() throws {
        guard let bin = require(strataBinary, "the release strata binary"),
              let url = require(llmURL, "the local LLM server (STRATA_TEST_LLM_URL)") else { return }
        let dir = makeTempDir()
        let input = dir + "/nouns.jsonl"
        try writeSample("wordnet-nouns-3000.jsonl", count: 1500, to: input)
        let llm = ["--labeler", "openai:gemma-3-270m", "--llm-base-url", url]
        // A first run calibrates (tokenizer ratio, retries, reply length); then k changes, so the next
        // run refits and asks the LLM about the new topics.
        let first = try runProcess(bin, ["run", input, "--k", "5", "--quiet"] + llm)
        #expect(first.status == 0 || first.status == 3, "stderr: \(first.stderr)")
        let est = try runProcess(bin, ["estimate", input, "--k", "9", "--json", "--quiet"] + llm)
        #expect(est.status == 0, "stderr: \(est.stderr)")
        let e = try JSONSerialization.jsonObject(with: Data(est.stdout.utf8)) as! [String: Any]
        let run = try runProcess(bin, ["run", input, "--k", "9", "--quiet"] + llm)
        #expect(run.status == 0 || run.status == 3, "stderr: \(run.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json"))) as! [String: Any]
        let manifest = doc["run"] as! [String: Any]
        let labeler = manifest["labeler"] as! [String: Any]
        let state = try SQLiteDatabase(path: dir + "/.strata/state.db")
        let prompts = try state.query("SELECT COALESCE(SUM(prompts), 0) FROM llm_usage WHERE run = ?", [.text(manifest["id"] as! String)]).first?.first?.int ?? -1
        let estFirst = e["llm_first_attempt_input_tokens"] as! Int, runFirst = labeler["first_attempt_prompt_tokens"] as! Int
        let estAll = e["llm_input_tokens"] as! Int, runAll = labeler["prompt_tokens"] as! Int
        print("estimate vs run: prompts \(e["llm_prompts"]!) vs \(prompts); first-attempt input tokens \(estFirst) vs \(runFirst); "
              + "input tokens with retries \(estAll) vs \(runAll); calls \(e["llm_calls"]!) vs \(labeler["calls"]!); "
              + "output tokens \(e["llm_output_tokens"]!) vs \(labeler["completion_tokens"]!); embedding tokens \(e["embedding_tokens"]!) vs "
              + "\((manifest["counts"] as! [String: Any])["embedded_tokens"]!); calibration: \(e["calibration"]!)")
        #expect(e["exact_prompts"] as? Bool == true)
        #expect(e["llm_prompts"] as! Int == prompts)
        #expect(runFirst > 0)
        #expect(abs(Double(estFirst - runFirst)) <= 0.05 * Double(runFirst), "first-attempt input tokens \(estFirst) vs \(runFirst)")
        #expect(e["embedding_tokens"] as! Int == (manifest["counts"] as! [String: Any])["embedded_tokens"] as! Int)
    }

    @Test("real local LLM: estimate on a state with no history is within 5% of first-attempt tokens and 20% of calls (fortunes sample)", .needsLLM)
    func estimateWithoutHistory() throws {
        guard let bin = require(strataBinary, "the release strata binary"),
              let url = require(llmURL, "the local LLM server (STRATA_TEST_LLM_URL)") else { return }
        let dir = makeTempDir()
        let input = dir + "/fortunes.jsonl"
        try FileManager.default.copyItem(atPath: repoRoot.appendingPathComponent("corpora/sample/fortunes-3000.jsonl").path, toPath: input)
        let llm = ["--labeler", "openai:gemma-3-270m", "--llm-base-url", url]
        let est = try runProcess(bin, ["estimate", input, "--k", "10", "--json", "--quiet"] + llm)
        #expect(est.status == 0, "stderr: \(est.stderr)")
        let e = try JSONSerialization.jsonObject(with: Data(est.stdout.utf8)) as! [String: Any]
        let run = try runProcess(bin, ["run", input, "--k", "10", "--quiet"] + llm)
        #expect(run.status == 0 || run.status == 3, "stderr: \(run.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json"))) as! [String: Any]
        let labeler = (doc["run"] as! [String: Any])["labeler"] as! [String: Any]
        let estFirst = e["llm_first_attempt_input_tokens"] as! Int, runFirst = labeler["first_attempt_prompt_tokens"] as! Int
        let estCalls = e["llm_calls"] as! Int, runCalls = labeler["calls"] as! Int
        print("no history: first-attempt input tokens \(estFirst) vs \(runFirst); calls \(estCalls) vs \(runCalls); mode \(labeler["mode"] ?? "-")")
        #expect(labeler["mode"] as? String == "completion")
        #expect(runFirst > 0 && abs(Double(estFirst - runFirst)) <= 0.05 * Double(runFirst), "first-attempt input tokens \(estFirst) vs \(runFirst)")
        #expect(abs(Double(estCalls - runCalls)) <= 0.2 * Double(runCalls), "calls \(estCalls) vs \(runCalls)")
        // Every published label lands nearest its own topic.
        for t in doc["topics"] as! [[String: Any]] { #expect((t["label_confidence"] as! Double) > 0, "\(t["label"]!)") }
    }

    @Test("real local LLM: labels ≤ 6 words with sources, schema-valid topics.json, SQLite columns match, rerun costs nothing", .needsLLM)
    func llmRunSQLite() throws {
        guard let bin = require(strataBinary, "the release strata binary"),
              let url = require(llmURL, "the local LLM server (STRATA_TEST_LLM_URL)") else { return }
        let dir = makeTempDir()
        let db = dir + "/corpus.db"
        try makeSQLiteCorpus(try sampleRecords("wordnet-nouns-3000.jsonl", count: 3000), labelField: "lexname", path: db)
        let source = "sqlite:\(db)?table=docs"
        let args = ["run", source, "--k", "10", "--labeler", "openai:gemma-3-270m", "--llm-base-url", url, "--quiet"]
        let r = try runProcess(bin, args)
        #expect(r.status == 0 || r.status == 3, "stderr: \(r.stderr)")
        let topicsPath = dir + "/.strata/topics.json"
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: topicsPath))) as! [String: Any]
        let topics = doc["topics"] as! [[String: Any]]
        #expect(topics.count == 10)
        for t in topics {
            let label = t["label"] as! String
            #expect(!label.trimmingCharacters(in: .whitespaces).isEmpty)
            #expect(label.split(separator: " ").count <= 6, "label too long: \(label)")
            #expect(["llm", "llm-repaired", "keywords", "cache"].contains(t["label_source"] as! String))
        }
        let sources = topics.map { $0["label_source"] as! String }
        print("label sources: \(sources)")
        #expect(sources.contains { $0.hasPrefix("llm") }, "no label came from the LLM")
        // topics.json validates against the JSON Schema in the repo (checked by python jsonschema).
        let schema = repoRoot.appendingPathComponent("schemas/topics.schema.json").path
        let v = try runProcess("/usr/bin/env", ["python3", "-c",
            "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))); print('valid')",
            topicsPath, schema])
        #expect(v.status == 0 && v.stdout.contains("valid"), "schema validation: \(v.stderr)")
        // Every row has a topic; SELECT … WHERE topic_id = X equals the members listed in topics.json.
        let sql = try SQLiteDatabase(path: db)
        #expect(try sql.query("SELECT COUNT(*) FROM docs WHERE topic_id IS NULL OR topic_label IS NULL").first?.first?.int == 0)
        for t in topics {
            let id = t["id"] as! Int
            let rows = try sql.query("SELECT id FROM docs WHERE topic_id = ? ORDER BY id", [.integer(Int64(id))]).compactMap { $0.first?.string }
            #expect(rows == (t["document_ids"] as! [String]).sorted(), "topic \(id)")
        }
        #expect(try sql.query("SELECT COUNT(*) FROM strata_topics WHERE level = 'topic'").first?.first?.int == 10)
        // Second run: every label from the cache, nothing embedded.
        let again = try runProcess(bin, args)
        #expect(again.status == 0 || again.status == 3)
        let doc2 = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: topicsPath))) as! [String: Any]
        let run2 = doc2["run"] as! [String: Any]
        #expect((run2["labeler"] as! [String: Any])["calls"] as! Int == 0)
        #expect((run2["counts"] as! [String: Any])["embedded"] as! Int == 0)
        let llmBefore = topics.filter { ($0["label_source"] as! String).hasPrefix("llm") }.count
        let cachedAfter = (doc2["topics"] as! [[String: Any]]).filter { ($0["label_source"] as! String) == "cache" }.count
        #expect(cachedAfter == llmBefore)
    }
}
