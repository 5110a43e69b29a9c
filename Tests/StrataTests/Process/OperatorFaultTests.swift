import Foundation
import StrataStore
import StrataTestSupport
import Testing

/// Operator faults driven through the real release binary: bad options are usage errors (exit 2)
/// that name the option and change nothing on disk.
@Suite("operator faults: bad options (release CLI)", .needsReleaseBinary)
struct OperatorFaultTests {
    /// A 60-document corpus in a fresh directory.
    func corpus() throws -> (dir: String, input: String) {
        let dir = makeTempDir()
        let input = dir + "/f.jsonl"
        try writeSample("fortunes-3000.jsonl", count: 60, to: input)
        return (dir, input)
    }

    static let cases: [(args: [String], names: String)] = [
        (["--bogus-flag"], "--bogus-flag"),
        (["--k", "-3"], "--k"),
        (["--k", "1"], "--k"),
        (["--llm-base-url", "not-a-url"], "--llm-base-url"),
        (["--llm-base-url", "ftp://example.com/v1"], "--llm-base-url"),
        (["--embedding-base-url", "localhost:8080"], "--embedding-base-url"),
        (["--max-cost", "-1"], "--max-cost"),
        (["--max-cost", "nan"], "--max-cost"),
        (["--llm-concurrency", "0"], "--llm-concurrency"),
        (["--llm-concurrency", "-2"], "--llm-concurrency"),
        (["--llm-timeout", "0"], "--llm-timeout"),
        (["--llm-mode", "telepathy"], "--llm-mode"),
    ]

    @Test("usage errors exit 2, name the option, and write nothing", arguments: cases.indices)
    func usage(_ i: Int) throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let (dir, input) = try corpus()
        let (args, name) = Self.cases[i]
        let r = try runProcess(bin, ["run", input, "--quiet"] + args)
        #expect(r.status == 2, "\(args): exit \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.contains(name) || r.stderr.contains(args.last!), "\(args): \(r.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(left == ["f.jsonl"], "\(args) left \(left)")
    }
}

@Suite("operator faults: low-variety corpora", .needsReleaseBinary)
struct LowVarietyTests {
    func write(_ texts: [String], count: Int) throws -> (dir: String, input: String) {
        let dir = makeTempDir()
        let input = dir + "/t.jsonl"
        try (0..<count).map { #"{"id": "d\#($0)", "text": "\#(texts[$0 % texts.count])"}"# }.joined(separator: "\n")
            .write(toFile: input, atomically: true, encoding: .utf8)
        return (dir, input)
    }

    @Test("--k auto on 50 documents cycling through 3 texts finds at most 3 topics (the user never set k)")
    func cycling() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let (dir, input) = try write(["the cat sat on the mat", "stock markets fell sharply today", "a recipe for lemon cake"], count: 50)
        let r = try runProcess(bin, ["run", input, "--quiet"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json"))) as! [String: Any]
        let topics = doc["topics"] as! [[String: Any]]
        #expect((2...3).contains(topics.count))
        let fixed = try runProcess(bin, ["run", input, "--quiet", "--k", "5", "--full"])
        #expect(fixed.status == 2 && fixed.stderr.contains("distinct texts (3)"), "stderr: \(fixed.stderr)")
    }

    @Test("one text repeated: exit 1 with a message, nothing written")
    func oneText() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let (dir, input) = try write(["same text"], count: 20)
        let r = try runProcess(bin, ["run", input, "--quiet"])
        #expect(r.status == 1 && r.stderr.contains("same text"), "stderr: \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/t.topics.jsonl"))
    }
}

@Suite("operator faults: hostile SQLite schemas", .needsReleaseBinary)
struct SQLiteSchemaFaultTests {
    @Test("a user's topic_id TEXT column is refused, untouched; the database keeps its journal mode")
    func userColumn() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let dir = makeTempDir()
        let path = dir + "/kb.db"
        try makeSQLiteCorpus(try sampleRecords("fortunes-3000.jsonl", count: 60), labelField: "category", path: path)
        do {
            let db = try SQLiteDatabase(path: path, keepJournalMode: true)
            try db.execute("ALTER TABLE docs ADD COLUMN topic_id TEXT; UPDATE docs SET topic_id = 'mine'")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let r = try runProcess(bin, ["run", "sqlite:\(path)?table=docs", "--k", "3", "--quiet"])
        #expect(r.status == 1 && r.stderr.contains("topic_id") && r.stderr.contains("TEXT"), "stderr: \(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)

        let clean = dir + "/clean.db"
        try makeSQLiteCorpus(try sampleRecords("fortunes-3000.jsonl", count: 60), labelField: "category", path: clean)
        let ok = try runProcess(bin, ["run", "sqlite:\(clean)?table=docs", "--k", "3", "--quiet"])
        #expect(ok.status == 0, "stderr: \(ok.stderr)")
        let db = try SQLiteDatabase(path: clean, readOnly: true)
        #expect(try db.query("PRAGMA journal_mode").first?.first?.string == "delete")
        #expect(!FileManager.default.fileExists(atPath: clean + "-wal"))
    }
}

@Suite("operator faults: the JSON log ends with a summary", .needsReleaseBinary)
struct JSONLogSummaryTests {
    func lines(_ stderr: String) -> [[String: Any]] {
        stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test("success and failure both end with one summary event; --quiet --json-log prints no stage events")
    func summary() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let dir = makeTempDir()
        let input = dir + "/f.jsonl"
        try writeSample("fortunes-3000.jsonl", count: 60, to: input)
        let ok = try runProcess(bin, ["run", input, "--k", "3", "--json-log"])
        #expect(ok.status == 0, "stderr: \(ok.stderr)")
        let events = lines(ok.stderr)
        #expect(events.contains { $0["event"] as? String == "stage" })
        let last = try #require(events.last)
        #expect(last["event"] as? String == "summary" && last["exit_code"] as? Int == 0)
        #expect(last["documents"] as? Int == 60 && last["topics"] as? Int == 3 && (last["warnings"] as? [String])?.isEmpty == true)
        #expect((last["seconds"] as? Double).map { $0 > 0 } == true)
        #expect(events.filter { $0["event"] as? String == "summary" }.count == 1)

        let quiet = try runProcess(bin, ["run", input, "--k", "3", "--json-log", "--quiet"])
        #expect(quiet.status == 0)
        #expect(lines(quiet.stderr).map { $0["event"] as? String } == ["summary"], "\(quiet.stderr)")

        let bad = try runProcess(bin, ["run", input, "--k", "3", "--json-log", "--max-cost", "-1"])
        #expect(bad.status == 2)
        let failure = try #require(lines(bad.stderr).last)
        #expect(failure["event"] as? String == "summary" && failure["exit_code"] as? Int == 2)
        #expect((failure["error"] as? String)?.contains("--max-cost") == true)
    }
}

@Suite("operator faults: debris and paths", .needsReleaseBinary)
struct DebrisTests {
    @Test("a temporary file left by a killed writer is removed by the next run; --state naming a file is exit 2")
    func staleTemporary() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let dir = makeTempDir()
        let input = dir + "/f.jsonl"
        try writeSample("fortunes-3000.jsonl", count: 60, to: input)
        let debris = dir + "/.f.topics.jsonl.tmp-2147483000-deadbeef"
        try "half a file".write(toFile: debris, atomically: false, encoding: .utf8)
        let r = try runProcess(bin, ["run", input, "--k", "3", "--quiet"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: debris))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }.isEmpty)

        let file = dir + "/not-a-dir"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        let s = try runProcess(bin, ["run", input, "--k", "3", "--quiet", "--state", file])
        #expect(s.status == 2 && s.stderr.contains("is a file"), "stderr: \(s.stderr)")
    }
}

@Suite("operator faults: SIGTERM and SIGINT stop at a safe point (release CLI)", .serialized, .needsReleaseBinary)
struct SignalTests {
    /// Runs `strata` with `--json-log`, sends `sig` once the stage `target` (a prefix of its name) has
    /// begun, and returns the exit status, standard error and the seconds from the signal to the exit.
    static func signalDuring(_ bin: String, _ args: [String], target: String, sig: Int32) throws -> (status: Int32, stderr: String, seconds: Double) {
        let (p, handle) = try launchWithJSONLog(bin, args)
        var text = ""
        var sentAt: Date?
        while sentAt == nil {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if text.contains(#""stage":"\#(target)"#) { kill(p.processIdentifier, sig); sentAt = Date() }
        }
        text += String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text, sentAt.map { Date().timeIntervalSince($0) } ?? .infinity)
    }

    /// A 3,000-fortune corpus with one finished run (keywords, k = 5): its embeddings are cached.
    static let prepared: String? = {
        guard let bin = strataBinary else { return nil }
        let dir = makeTempDir()
        try? FileManager.default.copyItem(atPath: repoRoot.appendingPathComponent("corpora/sample/fortunes-3000.jsonl").path,
                                          toPath: dir + "/f.jsonl")
        return (try? runProcess(bin, ["run", dir + "/f.jsonl", "--k", "5", "--quiet"]))?.status == 0 ? dir : nil
    }()

    static func outputs(_ dir: String) throws -> [Data] {
        try [dir + "/f.topics.jsonl", dir + "/.strata/topics.json"].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
    }

    /// The signalled run of each stage: embedding (into a fresh state, nothing cached), the k-scan of a
    /// cold refit, labeling against a server that never answers in time, and the write.
    static func arguments(for stage: String, dir: String, llm: URL) -> [String] {
        let input = dir + "/f.jsonl"
        switch stage {
        case "embed": return ["run", input, "--k", "5", "--state", dir + "/fresh-state"]
        case "cluster": return ["run", input, "--full", "--cold-start"]
        case "label": return ["run", input, "--k", "6", "--labeler", "openai:test-model", "--llm-base-url", llm.absoluteString]
        default: return ["run", input, "--k", "7", "--full"]
        }
    }

    @Test("SIGTERM in each long stage of a 3,000-document run: exit 143 within 5 s, no lock, previous outputs intact, no debris",
          arguments: ["embed", "cluster", "label", "write"])
    func termPromptly(stage: String) throws {
        guard let bin = require(strataBinary, "the release strata binary"), let base = require(Self.prepared, "a first run") else { return }
        let dir = makeTempDir() + "/copy"
        try FileManager.default.copyItem(atPath: base, toPath: dir)
        let before = try Self.outputs(dir)
        let stalled = try ScriptedHTTPServer([.init(body: "{}", delay: 120)])
        defer { stalled.stop() }
        let r = try Self.signalDuring(bin, Self.arguments(for: stage, dir: dir, llm: stalled.baseURL), target: stage, sig: SIGTERM)
        #expect(r.status == 143, "stderr: \(r.stderr)")
        #expect(r.seconds < 5, "\(stage): exit \(r.seconds) s after SIGTERM")
        #expect(r.stderr.contains(#""exit_code":143"#) || stage == "write")
        for state in [dir + "/.strata", dir + "/fresh-state"] {
            #expect(!FileManager.default.fileExists(atPath: state + "/lock"))
            #expect(!FileManager.default.fileExists(atPath: state + "/state.db-wal"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }.isEmpty)
        if stage == "write" {
            // The write is never interrupted: it finishes, commits, and the command then stops.
            #expect(r.stderr.contains("arrived after the last safe point"), "stderr: \(r.stderr)")
            let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json"))) as! [String: Any]
            let run = (doc["run"] as! [String: Any])["id"] as! String
            #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/f.topics.jsonl")), as: UTF8.self).contains(run))
        } else {
            #expect(r.stderr.contains("stopped by SIGTERM at a safe point"), "stderr: \(r.stderr)")
            #expect(try Self.outputs(dir) == before)
        }
    }

    @Test("SIGINT during a refit: exit 130, the previous outputs byte for byte, and the next run completes")
    func int() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let dir = makeTempDir()
        let input = dir + "/f.jsonl"
        try writeSample("fortunes-3000.jsonl", count: 1500, to: input)
        let first = try runProcess(bin, ["run", input, "--k", "5", "--quiet"])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let before = try [dir + "/f.topics.jsonl", dir + "/.strata/topics.json"].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        let r = try Self.signalDuring(bin, ["run", input, "--k", "6", "--full", "--cold-start"], target: "reduce (PCA)", sig: SIGINT)
        #expect(r.status == 130, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("stopped by SIGINT"))
        let after = try [dir + "/f.topics.jsonl", dir + "/.strata/topics.json"].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        #expect(after == before)
        #expect(!FileManager.default.fileExists(atPath: dir + "/.strata/lock"))
        let next = try runProcess(bin, ["run", input, "--k", "6", "--quiet"])
        #expect(next.status == 0, "stderr: \(next.stderr)")
    }
}

@Suite("operator faults: a full disk (tmpfs the test mounts and removes)", .serialized, .needsReleaseBinary)
struct DiskFullTests {
    /// Mounts a tmpfs of `megabytes` at a fresh folder; nil (reported) when mounting is not allowed.
    static func mountTmpfs(megabytes: Int) throws -> String? {
        let dir = makeTempDir() + "/small-fs"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let r = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", dir])
        return require(r.status == 0 ? dir : nil, "a tmpfs mount (needs root: \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))")
    }

    @Test("no space for the topic columns: exit 1 naming the file, previous outputs and state byte for byte, no debris")
    func full() throws {
        guard let bin = require(strataBinary, "the release strata binary"), let fs = try Self.mountTmpfs(megabytes: 3) else { return }
        defer { _ = try? runProcess("/bin/umount", [fs]) }
        let state = makeTempDir() + "/.strata"
        let input = fs + "/f.jsonl"
        try writeSample("fortunes-3000.jsonl", count: 1500, to: input)
        let first = try runProcess(bin, ["run", input, "--k", "5", "--quiet", "--state", state])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let output = fs + "/f.topics.jsonl"
        let before = try [output, state + "/topics.json", state + "/state.db"].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        // Fill the file system to within 4 KB.
        let free = (try FileManager.default.attributesOfFileSystem(forPath: fs)[.systemFreeSize] as? NSNumber)?.intValue ?? 0
        FileManager.default.createFile(atPath: fs + "/filler", contents: Data(count: max(0, free - 4096)))
        let r = try runProcess(bin, ["run", input, "--k", "6", "--full", "--quiet", "--state", state])
        #expect(r.status == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains(output) && r.stderr.contains("no space left"), "stderr: \(r.stderr)")
        #expect(!r.stderr.contains("NSCocoaErrorDomain"))
        let after = try [output, state + "/topics.json", state + "/state.db"].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        #expect(after[0] == before[0] && after[1] == before[1])
        #expect(try FileManager.default.contentsOfDirectory(atPath: fs).sorted() == ["f.jsonl", "f.topics.jsonl", "filler"])
        #expect(!FileManager.default.fileExists(atPath: state + "/lock"))
    }
}

extension DiskFullTests {
    @Test("a first run whose state fills the disk: exit 1 naming the state database, and no WAL left keeping the disk full")
    func stateFull() throws {
        guard let bin = require(strataBinary, "the release strata binary"), let fs = try Self.mountTmpfs(megabytes: 2) else { return }
        defer { _ = try? runProcess("/bin/umount", [fs]) }
        let dir = makeTempDir()
        let input = dir + "/f.jsonl"
        try writeSample("fortunes-3000.jsonl", count: 1500, to: input)
        let r = try runProcess(bin, ["run", input, "--k", "5", "--quiet", "--state", fs + "/.strata"])
        #expect(r.status == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("no space left for \(fs)/.strata/state.db"), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("free space in \(fs)/.strata"), "stderr: \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fs + "/.strata/state.db-wal"))
        let free = (try FileManager.default.attributesOfFileSystem(forPath: fs)[.systemFreeSize] as? NSNumber)?.intValue ?? 0
        #expect(free > 1_500_000, "only \(free) bytes free afterwards")
        #expect(!FileManager.default.fileExists(atPath: fs + "/.strata/lock"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/f.topics.jsonl"))
    }
}

/// The real binary against a scripted LLM server (a stand-in only for the server's faults).
@Suite("operator faults: an LLM server that misbehaves (release CLI, scripted server)", .serialized, .needsReleaseBinary)
struct LLMServerFaultTests {
    static func completion(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [
            "choices": [["text": text, "index": 0]], "usage": ["prompt_tokens": 300, "completion_tokens": 5],
        ]), as: UTF8.self)
    }

    /// Runs `strata run --k 3` on 300 glosses against `replies`; returns the result and topics.json.
    func run(_ replies: [ScriptedHTTPServer.Reply], k: Int = 3, extra: [String] = []) throws -> (ProcessResult, [String: Any]?, Double) {
        guard let bin = require(strataBinary, "the release strata binary") else { return (ProcessResult(status: -1, stdout: "", stderr: ""), nil, 0) }
        let dir = makeTempDir()
        let input = dir + "/n.jsonl"
        try writeSample("wordnet-nouns-3000.jsonl", count: 300, to: input)
        let server = try ScriptedHTTPServer(replies)
        defer { server.stop() }
        let start = Date()
        let r = try runProcess(bin, ["run", input, "--k", String(k), "--quiet", "--labeler", "openai:test-model",
                                     "--llm-base-url", server.baseURL.absoluteString] + extra)
        let seconds = Date().timeIntervalSince(start)
        let doc = try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json"))) as? [String: Any]
        return (r, doc, seconds)
    }

    func labels(_ doc: [String: Any]?) -> [String] { (doc?["topics"] as? [[String: Any]] ?? []).map { $0["label"] as! String } }

    @Test("HTTP 500 on every request: exit 3, keyword labels, warnings for topics and parents that say what to check")
    func http500() throws {
        let (r, doc, _) = try run([.init(status: 500, body: "internal error")], k: 6)
        guard r.status != -1 else { return }
        #expect(r.status == 3, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("check --llm-base-url") && r.stderr.contains("HTTP 500"), "stderr: \(r.stderr)")
        #expect(labels(doc).count == 6)
        let warnings = (doc?["run"] as? [String: Any])?["warnings"] as? [String] ?? []
        #expect(warnings.contains { $0.contains("topic label request(s) failed") })
        #expect(warnings.contains { $0.contains("parent label request(s) failed") }, "\(warnings)")
    }

    @Test("503 then 429 with Retry-After: waited out, the labels are the model's, exit 0")
    func transient() throws {
        let (r, doc, _) = try run([.init(status: 503, body: "busy"), .init(status: 429, headers: ["Retry-After": "1"], body: "slow"),
                                   .init(body: Self.completion(" Animals\nDescription: Animals."))])
        guard r.status != -1 else { return }
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let topics = doc?["topics"] as? [[String: Any]] ?? []
        // One answer for every topic: it is published once, for the topic it lands on; the others get keyphrases.
        #expect(topics.filter { $0["label"] as? String == "Animals" && $0["label_source"] as? String == "llm" }.count == 1, "\(labels(doc))")
        #expect(topics.allSatisfy { ($0["label_confidence"] as? Double ?? -1) > 0 })
    }

    @Test("a garbage body: exit 3, the warning names the malformed reply")
    func garbage() throws {
        let (r, _, _) = try run([.init(body: "<html>oops</html>")])
        guard r.status != -1 else { return }
        #expect(r.status == 3 && r.stderr.contains("not an OpenAI completion"), "stderr: \(r.stderr)")
    }

    @Test("prose and over-long answers never become labels over six words or about 'documents'")
    func prose() throws {
        for text in [" Well, I think these documents are mostly about many different things",
                     " Pets and animals of every kind in the wide world today"] {
            let (r, doc, _) = try run([.init(body: Self.completion(text))])
            guard r.status != -1 else { return }
            #expect(r.status == 0, "stderr: \(r.stderr)")
            for l in labels(doc) {
                #expect(l.split(separator: " ").count <= 6 && !l.lowercased().contains("documents"), "\(l)")
            }
        }
    }

    @Test("a changed --labeler is never ignored: the next run refits, says why, and asks the new labeler")
    func labelerChange() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let dir = makeTempDir()
        let input = dir + "/n.jsonl"
        try writeSample("wordnet-nouns-3000.jsonl", count: 300, to: input)
        #expect(try runProcess(bin, ["run", input, "--k", "3", "--quiet"]).status == 0)
        let server = try ScriptedHTTPServer([.init(body: Self.completion(" Animals"))])
        defer { server.stop() }
        let r = try runProcess(bin, ["run", input, "--quiet", "--labeler", "openai:test-model", "--llm-base-url", server.baseURL.absoluteString])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json"))) as! [String: Any]
        let run = doc["run"] as! [String: Any]
        #expect((run["refit_reason"] as? String)?.contains("the labeler changed") == true, "\(run["refit_reason"] ?? "nil")")
        #expect((run["labeler"] as! [String: Any])["calls"] as? Int == 3)
        #expect(server.requests.count == 3)
    }

    @Test("hang-ups and stalls end in keyword labels within bounded time (--llm-timeout), exit 3")
    func hangups() throws {
        let (dropped, _, _) = try run([.init(dropConnection: true)])
        guard dropped.status != -1 else { return }
        #expect(dropped.status == 3, "stderr: \(dropped.stderr)")
        let (stalled, _, seconds) = try run([.init(body: Self.completion(" Late"), delay: 5)], extra: ["--llm-timeout", "0.5"])
        #expect(stalled.status == 3, "stderr: \(stalled.stderr)")
        #expect(seconds < 60)
    }
}
