import Foundation
import StrataStore
import Testing

/// The repository root (two levels above this file's folder).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Starts `bin args --json-log` with standard error piped to the returned handle (output discarded).
func launchWithJSONLog(_ bin: String, _ args: [String]) throws -> (Process, FileHandle) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: bin)
    p.arguments = args + ["--json-log"]
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    return (p, err.fileHandleForReading)
}

/// Writes the first `count` records of a shipped sample corpus as JSONL to `path`.
func writeSample(_ name: String, count: Int, to path: String) throws {
    try sampleRecords(name, count: count).map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        .joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
}

/// True under CI, where missing services are failures rather than skips.
let underCI = ProcessInfo.processInfo.environment["CI"] == "true"

/// The release `strata` binary built by scripts/test.sh (end-to-end tests drive the real CLI); nil
/// when it is missing or older than any file under Sources/ (a stale binary would test old code).
let strataBinary: String? = {
    let p = repoRoot.appendingPathComponent(".build/release/strata").path
    guard FileManager.default.isExecutableFile(atPath: p), let built = modified(p) else { return nil }
    if let newest = newestSource, newest > built {
        print("STALE: \(p) is older than the sources; run scripts/build.sh --tests (scripts/test.sh does)")
        return nil
    }
    return p
}()

func modified(_ path: String) -> Date? {
    (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
}

/// The newest modification time of a file under Sources/ (Package.swift is left out: a change to a
/// test target's settings does not relink the binary).
let newestSource: Date? = {
    let root = repoRoot.appendingPathComponent("Sources").path
    let files = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).map { root + "/" + $0 }
    return files.compactMap(modified).max()
}()

extension Trait where Self == ConditionTrait {
    /// Runs when the release binary is there and current; under CI always (its absence then fails
    /// through ``require(_:_:)``). Elsewhere a missing binary shows the test as skipped, never passed.
    static var needsReleaseBinary: Self {
        .enabled(if: underCI || strataBinary != nil, "needs a current release binary: scripts/build.sh --tests")
    }
    /// Runs when the local LLM server is up (scripts/test.sh starts it); under CI always.
    static var needsLLM: Self {
        .enabled(if: underCI || llmURL != nil, "needs the local LLM server: run the suite through scripts/test.sh")
    }
    /// Runs when a PostgreSQL server is up (scripts/test.sh starts one); under CI always.
    static var needsPostgres: Self {
        .enabled(if: underCI || ProcessInfo.processInfo.environment["STRATA_TEST_PG_URL"].map { !$0.isEmpty } == true,
                 "needs PostgreSQL: run the suite through scripts/test.sh")
    }
}

/// The local LLM server's base URL exported by scripts/test.sh.
var llmURL: String? { ProcessInfo.processInfo.environment["STRATA_TEST_LLM_URL"].flatMap { $0.isEmpty ? nil : $0 } }

struct ProcessResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a program to completion and captures its output.
@discardableResult
func runProcess(_ path: String, _ args: [String], environment: [String: String] = [:]) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    p.environment = env
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return ProcessResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

func makeTempDir() -> String {
    let p = FileManager.default.temporaryDirectory.appendingPathComponent("strata-e2e-\(UUID().uuidString.prefix(8))").path
    try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
    return p
}

/// The first `count` records of a shipped sample corpus.
func sampleRecords(_ name: String, count: Int) throws -> [[String: Any]] {
    let text = try String(contentsOf: repoRoot.appendingPathComponent("corpora/sample/\(name)"), encoding: .utf8)
    return text.split(separator: "\n").prefix(count).map {
        try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
}

/// Writes records into a new SQLite table `docs(id TEXT PRIMARY KEY, text TEXT, <label field> TEXT)`.
func makeSQLiteCorpus(_ records: [[String: Any]], labelField: String, path: String) throws {
    let db = try SQLiteDatabase(path: path, keepJournalMode: true)   // a user's database: rollback journal
    try db.execute("CREATE TABLE docs (id TEXT PRIMARY KEY, text TEXT NOT NULL, \(labelField) TEXT)")
    try db.transaction {
        let s = try db.prepare("INSERT INTO docs VALUES (?, ?, ?)")
        for r in records {
            try s.run([.text(r["id"] as! String), .text(r["text"] as! String), .text(r[labelField] as? String ?? "")])
        }
    }
}

/// Requires a prerequisite: under CI its absence is a failure; elsewhere the test reports why it
/// did not run (never a silent skip).
func require(_ value: String?, _ what: String) -> String? {
    if value == nil {
        if underCI { Issue.record("\(what) is not available under CI=true — scripts/test.sh must provide it") }
        else { print("NOT RUN: \(what) is not available; run the suite through scripts/test.sh") }
    }
    return value
}

/// A fresh folder whose docs.jsonl holds the first `count` records of the shipped sample `name`, fitted
/// with `strata run --k k` (the run must succeed).
func fittedSample(_ bin: String, _ name: String, count: Int, k: Int) throws -> (dir: String, input: String) {
    let dir = makeTempDir()
    let input = dir + "/docs.jsonl"
    try writeSample(name, count: count, to: input)
    let r = try runProcess(bin, ["run", input, "--k", String(k), "--quiet"])
    #expect(r.status == 0, "stderr: \(r.stderr)")
    return (dir, input)
}

/// The objects of a JSON Lines file.
func jsonLines(_ path: String) throws -> [[String: Any]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
}
