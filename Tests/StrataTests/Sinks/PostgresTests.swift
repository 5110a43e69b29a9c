import Foundation
import Testing

/// PostgreSQL source and sink (issue 6) against the throwaway cluster `scripts/test.sh` starts
/// (`scripts/pg-server.sh`; its URL in STRATA_TEST_PG_URL).
@Suite("PostgreSQL source and sink (release CLI, real server)", .serialized, .needsReleaseBinary, .needsPostgres)
struct PostgresTests {
    static var pgURL: String? { ProcessInfo.processInfo.environment["STRATA_TEST_PG_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    static func psql(_ url: String, _ sql: String) throws -> String {
        let r = try runProcess("/usr/bin/env", ["psql", url, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
        if r.status != 0 { throw NSError(domain: "psql", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: r.stderr]) }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A fresh database per test, holding `table` with `count` WordNet glosses (id, text, lexname).
    static func database(_ base: String, table: String, count: Int) throws -> String {
        let name = "strata_" + UUID().uuidString.prefix(8).lowercased()
        _ = try psql(base, "CREATE DATABASE \(name)")
        let url = String(base[..<base.lastIndex(of: "/")!]) + "/" + name
        let q = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        _ = try psql(url, "CREATE TABLE \(q) (id text PRIMARY KEY, text text NOT NULL, lexname text)")
        let csv = makeTempDir() + "/rows.csv"
        let field = { (s: String) in "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        try sampleRecords("wordnet-nouns-3000.jsonl", count: count).map {
            [$0["id"] as! String, $0["text"] as! String, $0["lexname"] as! String].map(field).joined(separator: ",")
        }.joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        _ = try psql(url, "\\copy \(q) (id, text, lexname) FROM '\(csv)' CSV")
        return url
    }

    @Test("run fills the columns of every row; WHERE topic_id = X equals topics.json; --write-embeddings stores real[]")
    func runOnPostgres() throws {
        guard let bin = require(strataBinary, "the release strata binary"),
              let base = require(Self.pgURL, "PostgreSQL (STRATA_TEST_PG_URL, started by scripts/test.sh)") else { return }
        let url = try Self.database(base, table: "docs", count: 800)
        let dir = makeTempDir()
        let r = try runProcess(bin, ["run", "\(url)?table=docs", "--k", "6", "--state", dir + "/.strata", "--write-embeddings", "--quiet"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(try Self.psql(url, "SELECT COUNT(*) FROM docs WHERE topic_id IS NULL OR topic_label IS NULL OR topic_run IS NULL") == "0")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json"))) as! [String: Any]
        for t in doc["topics"] as! [[String: Any]] {
            let ids = try Self.psql(url, "SELECT id FROM docs WHERE topic_id = \(t["id"] as! Int) ORDER BY id").split(separator: "\n").map(String.init)
            #expect(ids == (t["document_ids"] as! [String]).sorted(), "topic \(t["id"]!)")
        }
        #expect(try Self.psql(url, "SELECT COUNT(*) FROM strata_topics WHERE level = 'topic'") == "6")
        #expect(try Self.psql(url, "SELECT COUNT(*) FROM docs WHERE array_length(embedding, 1) = 384") == "800")
        let norm = Double(try Self.psql(url, "SELECT sqrt(sum(x * x)) FROM (SELECT unnest(embedding)::float8 AS x FROM docs WHERE id = (SELECT min(id) FROM docs)) v")) ?? 0
        #expect(abs(norm - 1) < 1e-4)
        #expect(try Self.psql(url, "SELECT indexdef FROM pg_indexes WHERE tablename = 'docs' AND indexdef LIKE '%(topic_id)%'") != "")
    }

    @Test("a run killed while writing leaves the table as it was: every row from one run, no NULLs")
    func killedWrite() throws {
        guard let bin = require(strataBinary, "the release strata binary"),
              let base = require(Self.pgURL, "PostgreSQL (STRATA_TEST_PG_URL, started by scripts/test.sh)") else { return }
        let url = try Self.database(base, table: "docs", count: 3000)
        let dir = makeTempDir()
        let source = "\(url)?table=docs"
        #expect(try runProcess(bin, ["run", source, "--k", "8", "--state", dir + "/.strata", "--quiet"]).status == 0)
        var kills = 0
        var rng = SeededRandom(seed: 3)
        for i in 0..<8 {
            let delay = rng.uniform() * 0.4
            let args = ["run", source, "--k", "8", "--full", "--seed", String(100 + i), "--state", dir + "/.strata", "--write-embeddings"]
            if try CrashTests.killDuring(bin, args, target: "write", delay: delay) != nil { kills += 1 }
            #expect(try Self.psql(url, "SELECT COUNT(DISTINCT topic_run) FROM docs") == "1", "after kill \(i)")
            #expect(try Self.psql(url, "SELECT COUNT(*) FROM docs WHERE topic_id IS NULL") == "0")
        }
        print("PostgreSQL: \(kills) of 8 runs killed while writing; the table held one run's columns every time")
        #expect(kills >= 4)
        let last = try runProcess(bin, ["run", source, "--k", "8", "--state", dir + "/.strata", "--quiet"])
        // The last kill left its lock behind: taking it over is a warning (exit 3), nothing else is.
        #expect(last.status == 0 || (last.status == 3 && last.stderr.contains("took over a stale lock")), "stderr: \(last.stderr)")
    }

    @Test("hostile table names are quoted, never executed")
    func injection() throws {
        guard let bin = require(strataBinary, "the release strata binary"),
              let base = require(Self.pgURL, "PostgreSQL (STRATA_TEST_PG_URL, started by scripts/test.sh)") else { return }
        let hostile = "docs\"; DROP TABLE x; --"
        let url = try Self.database(base, table: hostile, count: 60)
        _ = try Self.psql(url, "CREATE TABLE x (v int)")
        let dir = makeTempDir()
        // The table really has that name: quoted, it is read and written like any other.
        let ok = try runProcess(bin, ["run", "\(url)?table=\(hostile.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
                                      "--k", "3", "--state", dir + "/a", "--quiet"])
        #expect(ok.status == 0, "stderr: \(ok.stderr)")
        #expect(try Self.psql(url, "SELECT COUNT(*) FROM \"docs\"\"; DROP TABLE x; --\" WHERE topic_id IS NOT NULL") == "60")
        // A name that does not exist is an error naming it, and nothing else happens.
        let missing = "nodocs\"; DROP TABLE x; --"
        let bad = try runProcess(bin, ["run", "\(url)?table=\(missing.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
                                       "--k", "3", "--state", dir + "/b", "--quiet"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("does not exist"), "stderr: \(bad.stderr)")
        #expect(try Self.psql(url, "SELECT COUNT(*) FROM x") == "0")
    }
}
