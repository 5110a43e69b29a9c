import Foundation
import Strata
@testable import StrataPostgres
import Testing

/// The sharded nightly (issue 14) under the real single-node Slurm cluster `scripts/test.sh` starts
/// (`scripts/slurm-cluster.sh`; its config in STRATA_TEST_SLURM_CONF), over the throwaway PostgreSQL,
/// submitted with the shipped `deploy/slurm/nightly.sh` (embed array → fit → assign array, afterok).
/// The corpus: 20,300 package summaries (corpora/sample/packages-20300.jsonl.gz).
@Suite("Sharded nightly under Slurm over PostgreSQL (release CLI, real servers)", .serialized, .needsReleaseBinary,
       .needsPostgres, .needsSlurm)
struct ShardedSlurmTests {
    static var slurmConf: String? { ProcessInfo.processInfo.environment["STRATA_TEST_SLURM_CONF"].flatMap { $0.isEmpty ? nil : $0 } }
    static let corpus = "packages-20300.jsonl.gz"

    /// Records `range` of the packages sample.
    static func packages(_ range: Range<Int>) throws -> [(id: String, text: String)] {
        let r = try runProcess("/bin/gzip", ["-dc", repoRoot.appendingPathComponent("corpora/sample/\(corpus)").path])
        return r.stdout.split(separator: "\n")[range].map {
            let o = try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: String]
            return (o["id"]!, o["text"]!)
        }
    }

    /// A fresh database holding `docs(id, text)` with `rows`.
    static func database(_ base: String, rows: [(id: String, text: String)]) throws -> String {
        let name = "strata_" + UUID().uuidString.prefix(8).lowercased()
        _ = try PostgresTests.psql(base, "CREATE DATABASE \(name)")
        let url = String(base[..<base.lastIndex(of: "/")!]) + "/" + name
        _ = try PostgresTests.psql(url, "CREATE TABLE docs (id text PRIMARY KEY, text text NOT NULL)")
        try copy(rows, into: url)
        return url
    }

    static func copy(_ rows: [(id: String, text: String)], into url: String) throws {
        let csv = makeTempDir() + "/rows.csv"
        let field = { (s: String) in "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        try rows.map { field($0.id) + "," + field($0.text) }.joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        _ = try PostgresTests.psql(url, "\\copy docs (id, text) FROM '\(csv)' CSV")
    }

    /// Submits deploy/slurm/nightly.sh for `url`'s docs and waits until its jobs left the queue.
    /// - Returns: the embed, fit and assign job ids.
    @discardableResult
    static func nightly(_ url: String, shared: String, state: String, k: Int, extra: [String: String] = [:],
                        wait: Bool = true) throws -> [String: String] {
        let logs = makeTempDir()
        var env = ["SLURM_CONF": slurmConf!, "STRATA_SOURCE": url + "?table=docs", "STRATA_SHARED": shared, "STRATA_STATE": state,
                   "STRATA_BIN": strataBinary!, "STRATA_SHARDS": "4", "STRATA_K": String(k), "STRATA_SEED": "7"]
        for (key, v) in extra { env[key] = v }
        let script = repoRoot.appendingPathComponent("deploy/slurm/nightly.sh").path
        let r = try runProcess("/bin/sh", ["-c", "cd \(logs) && exec \(script)"], environment: env)
        #expect(r.status == 0, "nightly.sh: \(r.stderr)")
        var jobs: [String: String] = [:]
        for line in r.stdout.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            if f.count >= 2, ["embed", "fit", "assign"].contains(String(f[0])) { jobs[String(f[0])] = String(f[1]) }
        }
        if wait { try waitForQueue(Array(jobs.values)) }
        return jobs
    }

    /// Polls squeue until none of `jobs` is pending or running (10 minutes at most).
    static func waitForQueue(_ jobs: [String], timeout: TimeInterval = 600) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let q = try runProcess("/usr/bin/env", ["squeue", "-h", "-o", "%i %T", "-j", jobs.joined(separator: ",")],
                                   environment: ["SLURM_CONF": slurmConf!])
            if q.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return }
            Thread.sleep(forTimeInterval: 1)
        }
        Issue.record("Slurm jobs \(jobs) still queued after \(Int(timeout)) s")
    }

    /// `id|topic_id|topic_label` of every row, by id.
    static func columns(_ url: String) throws -> [Substring] {
        try PostgresTests.psql(url, "SELECT id, topic_id, topic_label FROM docs ORDER BY id").split(separator: "\n")
    }

    /// The database name of a `postgres://…/NAME` URL.
    static func dbName(_ url: String) -> String { String(url[url.index(after: url.lastIndex(of: "/")!)...]) }

    /// The ledger's `source` key of `url`'s docs table.
    static func sourceKey(_ url: String) -> String { "%/\(dbName(url))?table=docs" }

    /// `shard status attempt failures processed` of each shard of a step of `url`'s docs in the ledger.
    static func ledger(_ shared: String, step: String, source url: String) throws -> [String] {
        try PostgresTests.psql(shared, "SELECT shard || ' ' || status || ' ' || attempt || ' ' || failures || ' ' || processed "
                               + "FROM strata.shards WHERE step = '\(step)' AND source LIKE '\(sourceKey(url))' ORDER BY shard")
            .split(separator: "\n").map(String.init)
    }

    /// The shared store: one database for the suite, so later tests find the first one's vectors.
    static let shared: String? = {
        guard let base = PostgresTests.pgURL else { return nil }
        let name = "strata_shared_" + UUID().uuidString.prefix(6).lowercased()
        _ = try? PostgresTests.psql(base, "CREATE DATABASE \(name)")
        return String(base[..<base.lastIndex(of: "/")!]) + "/" + name
    }()

    static func prerequisites() -> (bin: String, base: String, shared: String)? {
        guard let bin = require(strataBinary, "the release strata binary"),
              let base = require(PostgresTests.pgURL, "PostgreSQL (STRATA_TEST_PG_URL, started by scripts/test.sh)"),
              require(slurmConf, "Slurm (STRATA_TEST_SLURM_CONF, started by scripts/test.sh)") != nil,
              let shared = shared else { return nil }
        return (bin, base, shared)
    }

    @Test("4-way embed and assign arrays with the fit between give every row the topic_id and topic_label of `strata run`")
    func matchesSingleProcess() throws {
        guard let (bin, base, shared) = Self.prerequisites() else { return }
        let rows = try Self.packages(0..<20_000)
        let single = try Self.database(base, rows: rows), sharded = try Self.database(base, rows: rows)
        let r = try runProcess(bin, ["run", single + "?table=docs", "--k", "20", "--seed", "7", "--state", makeTempDir(), "--quiet"])
        #expect(r.status == 0, "strata run: \(r.stderr)")
        let state = makeTempDir()
        let jobs = try Self.nightly(sharded, shared: shared, state: state, k: 20)
        #expect(jobs.count == 3)
        #expect(try Self.ledger(shared, step: "embed", source: sharded).map { $0.split(separator: " ")[1] } == ["done", "done", "done", "done"])
        #expect(try Self.ledger(shared, step: "assign", source: sharded).map { $0.split(separator: " ")[1] } == ["done", "done", "done", "done"])
        let expected = try Self.columns(single), got = try Self.columns(sharded)
        #expect(expected.count == 20_000 && got.count == 20_000)
        let differ = zip(expected, got).filter { $0 != $1 }
        #expect(differ.isEmpty, "\(differ.count) rows differ, e.g. \(differ.prefix(3))")
        // The fit's run record carries the embed shards' accounting.
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/topics.json"))) as! [String: Any]
        let shards = (doc["run"] as! [String: Any])["shards"] as? [[String: Any]] ?? []
        #expect(shards.map { $0["documents"] as! Int }.reduce(0, +) == 20_000)
        #expect(shards.allSatisfy { $0["status"] as? String == "done" && ($0["per_second"] as? Double ?? -1) >= 0 })
    }

    @Test("an assign worker SIGKILLed mid-shard and requeued leaves the table complete and as published")
    func killedAssignWorker() throws {
        guard let (_, base, shared) = Self.prerequisites() else { return }
        let url = try Self.database(base, rows: try Self.packages(0..<20_000))
        let state = makeTempDir()
        let conf = ["SLURM_CONF": Self.slurmConf!]
        // Assign with 250-row batches and a 400 ms pause after each (fault injection), so a shard takes ~8 s.
        let jobs = try Self.nightly(url, shared: shared, state: state, k: 20, extra: [
            "STRATA_FAILPOINT_ASSIGN_BATCH_MS": "400", "STRATA_ASSIGN_ARGS": "--batch-rows 250"], wait: false)
        let assign = jobs["assign"]!
        // Kill shard 1's worker once it has committed a batch or two.
        var pid: String?
        let deadline = Date().addingTimeInterval(300)
        while pid == nil && Date() < deadline {
            pid = try PostgresTests.psql(shared, "SELECT pid FROM strata.shards WHERE step = 'assign' AND shard = 1 AND status = 'running' "
                                         + "AND processed >= 250 AND source LIKE '\(Self.sourceKey(url))'")
                .split(separator: "\n").first.map(String.init)
            if pid == nil { Thread.sleep(forTimeInterval: 0.2) }
        }
        let victim = try #require(pid, "shard 1 never reported progress")
        #expect(kill(pid_t(victim)!, SIGKILL) == 0)
        try Self.waitForQueue(Array(jobs.values))
        let partial = try PostgresTests.psql(url, "SELECT COUNT(*) FROM docs WHERE topic_id IS NULL")
        #expect(Int(partial)! > 0, "the kill left shard 1 unfinished")
        // Requeue only index 1, in place: same array, same environment.
        let rq = try runProcess("/usr/bin/env", ["scontrol", "requeue", "\(assign)_1"], environment: conf)
        #expect(rq.status == 0, "scontrol requeue: \(rq.stderr)")
        Thread.sleep(forTimeInterval: 2)
        try Self.waitForQueue([assign])
        #expect(try PostgresTests.psql(url, "SELECT COUNT(*) FROM docs WHERE topic_id IS NULL") == "0")
        let ledger = try Self.ledger(shared, step: "assign", source: url)
        #expect(ledger.count == 4 && ledger.allSatisfy { $0.split(separator: " ")[1] == "done" }, "\(ledger)")
        #expect(ledger.count == 4 && ledger[1].split(separator: " ")[2] == "2", "shard 1 ran twice: \(ledger)")
        // Every row holds what the fit published: its assignment's topic and that topic's label.
        let wrong = try PostgresTests.psql(url, """
            SELECT COUNT(*) FROM docs d LEFT JOIN strata_topics t ON t.id = d.topic_id
            WHERE t.label IS DISTINCT FROM d.topic_label
            """)
        #expect(wrong == "0")
        let published = try PostgresTests.psql(shared, "SELECT id || '|' || topic FROM strata.assignments WHERE source LIKE '\(Self.sourceKey(url))' ORDER BY id")
        let written = try PostgresTests.psql(url, "SELECT id || '|' || topic_id FROM docs ORDER BY id")
        #expect(published == written)
    }
}

extension ShardedSlurmTests {
    /// `id → (topic_id, topic_label, xmin)` of every row (xmin changes exactly when a row is updated).
    static func rowVersions(_ url: String) throws -> [String: (topic: String, label: String, xmin: String)] {
        var out: [String: (topic: String, label: String, xmin: String)] = [:]
        for line in try PostgresTests.psql(url, "SELECT id, coalesce(topic_id::text, ''), coalesce(topic_label, ''), xmin::text FROM docs")
            .split(separator: "\n") {
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            out[f[0]] = (f[1], f[2], f[3])
        }
        return out
    }

    @Test("a nightly delta (1% new, 0.5% changed, 0.5% removed) through the shards updates only new and changed rows and keeps every unchanged row's topic id")
    func nightlyDelta() throws {
        guard let (_, base, shared) = Self.prerequisites() else { return }
        let rows = try Self.packages(0..<20_300)
        let url = try Self.database(base, rows: Array(rows[0..<20_000]))
        let state = makeTempDir()
        try Self.nightly(url, shared: shared, state: state, k: 20)
        let before = try Self.rowVersions(url)
        #expect(before.count == 20_000 && before.values.allSatisfy { !$0.topic.isEmpty })
        let removed = rows[0..<100].map(\.id), changed = rows[100..<200].map(\.id), added = Array(rows[20_000..<20_200])
        _ = try PostgresTests.psql(url, "DELETE FROM docs WHERE id = ANY(ARRAY[\(removed.map { "'\($0.replacingOccurrences(of: "'", with: "''"))'" }.joined(separator: ","))])")
        for (n, id) in changed.enumerated() {
            let text = rows[20_200 + n].text.replacingOccurrences(of: "'", with: "''")
            _ = try PostgresTests.psql(url, "UPDATE docs SET text = '\(text)' WHERE id = '\(id.replacingOccurrences(of: "'", with: "''"))'")
        }
        try Self.copy(added, into: url)
        let edited = try Self.rowVersions(url)
        try Self.nightly(url, shared: shared, state: state, k: 20)
        let after = try Self.rowVersions(url)
        #expect(after.count == 20_100 && after.values.allSatisfy { !$0.topic.isEmpty })
        let fresh = Set(changed + added.map(\.id))
        var touched: [String] = [], moved: [String] = []
        for (id, a) in after where !fresh.contains(id) {
            let b = try #require(edited[id])
            // A row is rewritten only when its values change: a topic relabelled by the delta changes its label.
            if a.xmin != b.xmin && a.label == b.label { touched.append(id) }
            if a.topic != before[id]!.topic { moved.append(id) }
        }
        #expect(touched.isEmpty, "\(touched.count) unchanged rows were rewritten, e.g. \(touched.prefix(3))")
        #expect(moved.isEmpty, "\(moved.count) unchanged rows changed topic, e.g. \(moved.prefix(3))")
        // Each embed shard embedded exactly its own new and changed documents.
        var perShard = [Int](repeating: 0, count: 4)
        for id in fresh { perShard[Shard.of(id, count: 4)] += 1 }
        let embedded = try Self.ledger(shared, step: "embed", source: url).map { Int($0.split(separator: " ")[4])! }
        #expect(embedded == perShard)
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/topics.json"))) as! [String: Any]
        #expect((doc["run"] as! [String: Any])["mode"] as? String == "incremental")
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs when the test Slurm cluster is up (scripts/test.sh starts it); under CI always.
    static var needsSlurm: Self {
        .enabled(if: underCI || ShardedSlurmTests.slurmConf != nil, "needs the test Slurm cluster: run the suite through scripts/test.sh")
    }
}

/// The sharded steps' contracts without a scheduler (release CLI, real PostgreSQL): the fit refuses
/// while an embed shard is missing and names it, assign refuses before a fit, shards are idempotent.
@Suite("Sharded steps: refusals and idempotence (release CLI, real PostgreSQL)", .serialized, .needsReleaseBinary, .needsPostgres)
struct ShardedStepsTests {
    @Test("fit exits 5 naming the embed shard that never ran; assign exits 5 before a fit; rerun shards change nothing")
    func refusalsAndIdempotence() throws {
        guard let bin = require(strataBinary, "the release strata binary"),
              let base = require(PostgresTests.pgURL, "PostgreSQL (STRATA_TEST_PG_URL, started by scripts/test.sh)") else { return }
        let url = try ShardedSlurmTests.database(base, rows: try ShardedSlurmTests.packages(0..<600))
        let source = url + "?table=docs", state = makeTempDir()
        func strata(_ args: [String]) throws -> ProcessResult { try runProcess(bin, args + ["--quiet"]) }
        let early = try strata(["assign", source, "--shared", url, "--shard", "0/3"])
        #expect(early.status == 5 && early.stderr.contains("no fit published"), "\(early.status): \(early.stderr)")
        for i in [0, 2] { #expect(try strata(["embed", source, "--shared", url, "--shard", "\(i)/3"]).status == 0) }
        let refused = try strata(["fit", source, "--shared", url, "--state", state, "--k", "5"])
        #expect(refused.status == 5 && refused.stderr.contains("shard 1/3 never ran"), "\(refused.status): \(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state + "/topics.json"))
        let again = try strata(["embed", source, "--shared", url, "--shard", "0/3"])
        #expect(again.status == 0)
        #expect(try PostgresTests.psql(url, "SELECT processed FROM strata.shards WHERE step = 'embed' AND shard = 0") == "0", "a rerun embeds nothing")
        #expect(try strata(["embed", source, "--shared", url, "--shard", "1/3"]).status == 0)
        let fit = try strata(["fit", source, "--shared", url, "--state", state, "--k", "5"])
        #expect(fit.status == 0, "\(fit.stderr)")
        #expect(try PostgresTests.psql(url, "SELECT COUNT(*) FROM strata.embeddings") == PostgresTests.psql(url, "SELECT COUNT(DISTINCT md5(text)) FROM docs"))
        for i in 0..<3 { #expect(try strata(["assign", source, "--shared", url, "--shard", "\(i)/3"]).status == 0) }
        #expect(try PostgresTests.psql(url, "SELECT COUNT(*) FROM docs WHERE topic_id IS NULL") == "0")
        let versions = try PostgresTests.psql(url, "SELECT string_agg(xmin::text, ',' ORDER BY id) FROM docs")
        #expect(try strata(["assign", source, "--shared", url, "--shard", "1/3"]).status == 0)
        #expect(try PostgresTests.psql(url, "SELECT string_agg(xmin::text, ',' ORDER BY id) FROM docs") == versions, "a rerun shard rewrote rows")
        let bad = try strata(["embed", "corpora/sample/x.jsonl", "--shared", url, "--out", "/tmp/x.npy"])
        #expect(bad.status == 2)
    }

    @Test("the server selects a shard's rows with the same partition as Shard.of (N = 1, 3, 7, 64; unicode and integer ids)")
    func serverPartition() throws {
        guard let base = require(PostgresTests.pgURL, "PostgreSQL (STRATA_TEST_PG_URL, started by scripts/test.sh)") else { return }
        let url = try ShardedSlurmTests.database(base, rows: try ShardedSlurmTests.packages(0..<2_000) + [("ü-日本-☃", "x"), ("12345", "y")])
        for n in [1, 3, 7, 64] {
            let rows = try PostgresTests.psql(url, "SELECT id || '|' || \(PostgresTable.shardExpression("id", count: n)) FROM docs")
                .split(separator: "\n")
            #expect(rows.count == 2_002)
            let wrong = rows.filter { line in
                let f = line.split(separator: "|"); return Int(f.last!)! != Shard.of(f.dropLast().joined(separator: "|"), count: n)
            }
            #expect(wrong.isEmpty, "N = \(n): \(wrong.prefix(3))")
        }
    }
}
