import Foundation
@testable import Strata
import StrataStore
import Testing

/// What retrieval stacks join and trigger on (issue 17): parent ids that join `strata_topics`, one state
/// per source, and runs that touch only the rows whose topic columns changed.

/// Rewrites the text of every `every`-th row of `docs` (so 1 in `every` documents changed).
func changeSQLiteRows(_ path: String, every: Int) throws {
    let db = try SQLiteDatabase(path: path, keepJournalMode: true)
    try db.execute("UPDATE docs SET text = text || ' (revised)' WHERE (rowid % \(every)) = 0")
}

@Suite("retrieval glue: SQLite (release CLI)", .needsReleaseBinary)
struct SQLiteGlueTests {
    @Test("every topic_parent_id joins a parent row of strata_topics; parents and topics never share an id")
    func parentJoin() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let path = makeTempDir() + "/kb.db"
        try makeSQLiteCorpus(try sampleRecords("wordnet-nouns-3000.jsonl", count: 600), labelField: "lexname", path: path)
        let r = try runProcess(bin, ["run", "sqlite:\(path)?table=docs", "--k", "12", "--quiet"])
        #expect(r.status == 0 || r.status == 3, "stderr: \(r.stderr)")
        let db = try SQLiteDatabase(path: path)
        let withParent = try db.query("SELECT COUNT(*) FROM docs WHERE topic_parent_id IS NOT NULL").first?.first?.int ?? 0
        #expect(withParent == 600)
        let joined = try db.query("""
            SELECT COUNT(*) FROM docs d JOIN strata_topics p ON p.id = d.topic_parent_id AND p.level = 'parent'
            JOIN strata_topics t ON t.id = d.topic_id AND t.level = 'topic' AND t.parent_id = p.id
            """).first?.first?.int
        #expect(joined == 600)
        let overlap = try db.query("""
            SELECT COUNT(*) FROM strata_topics p WHERE p.level = 'parent' AND p.id IN (SELECT id FROM strata_topics WHERE level = 'topic')
            """).first?.first?.int
        #expect(overlap == 0)
        let sizes = try db.query("SELECT SUM(size) FROM strata_topics WHERE level = 'parent'").first?.first?.int
        #expect(sizes == 600)
    }

    @Test("an incremental run with 1% changed documents updates at most 2% of the rows (counted by a trigger)")
    func fewRowsTouched() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let path = makeTempDir() + "/kb.db"
        try makeSQLiteCorpus(try sampleRecords("fortunes-3000.jsonl", count: 2000), labelField: "category", path: path)
        let source = "sqlite:\(path)?table=docs"
        #expect(try runProcess(bin, ["run", source, "--k", "10", "--quiet"]).status == 0)
        try changeSQLiteRows(path, every: 100)
        let db = try SQLiteDatabase(path: path, keepJournalMode: true)
        try db.execute("""
            CREATE TABLE touched (id TEXT);
            CREATE TRIGGER count_updates AFTER UPDATE ON docs BEGIN INSERT INTO touched VALUES (NEW.id); END;
            """)
        let r = try runProcess(bin, ["run", source, "--quiet"])
        #expect(r.status == 0 || r.status == 3, "stderr: \(r.stderr)")
        let touched = try db.query("SELECT COUNT(*) FROM touched").first?.first?.int ?? -1
        #expect(touched >= 20 && touched <= 40, "\(touched) of 2000 rows updated")
        let stamped = try db.query("SELECT COUNT(DISTINCT topic_run) FROM docs").first?.first?.int
        #expect(stamped == 2, "topic_run names the run that last changed each row")
    }

    @Test("a second source in the same folder gets its own state; the first source's model is untouched")
    func secondSource() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let dir = makeTempDir()
        try writeSample("fortunes-3000.jsonl", count: 300, to: dir + "/a.jsonl")
        try writeSample("wordnet-nouns-3000.jsonl", count: 300, to: dir + "/b.jsonl")
        #expect(try runProcess(bin, ["run", dir + "/a.jsonl", "--k", "6", "--quiet"]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json"))
        let committed = try runProcess(bin, ["topics", "--state", dir + "/.strata", "--json"]).stdout
        let b = try runProcess(bin, ["run", dir + "/b.jsonl", "--k", "8", "--quiet"])
        #expect(b.status == 0, "stderr: \(b.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/.strata/b.jsonl/topics.json"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json")) == before)
        #expect(try runProcess(bin, ["topics", "--state", dir + "/.strata", "--json"]).stdout == committed)
        // Naming the first source's state for the second is refused, naming the owner; nothing changes.
        let forced = try runProcess(bin, ["run", dir + "/b.jsonl", "--state", dir + "/.strata", "--quiet"])
        #expect(forced.status == 2 && forced.stderr.contains("a.jsonl"), "stderr: \(forced.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json")) == before)
        // The first source still runs incrementally on its own state.
        let again = try runProcess(bin, ["run", dir + "/a.jsonl", "--quiet", "--json-log"])
        #expect(again.status == 0 && again.stderr.contains("\"mode\":\"incremental\""), "stderr: \(again.stderr)")
    }
}

@Suite("retrieval glue: PostgreSQL (release CLI, real server)", .serialized, .needsReleaseBinary, .needsPostgres)
struct PostgresGlueTests {
    @Test("parents join strata_topics; 1% changed rows update ≤ 2% of the table; stored vectors survive SQL arithmetic")
    func glue() throws {
        guard let bin = require(strataBinary, "the release strata binary"),
              let base = require(PostgresTests.pgURL, "PostgreSQL (STRATA_TEST_PG_URL, started by scripts/test.sh)") else { return }
        let url = try PostgresTests.database(base, table: "docs", count: 1000)
        let source = "\(url)?table=docs", state = makeTempDir() + "/.strata"
        let r = try runProcess(bin, ["run", source, "--k", "9", "--state", state, "--write-embeddings", "--quiet"])
        #expect(r.status == 0 || r.status == 3, "stderr: \(r.stderr)")
        #expect(try PostgresTests.psql(url, """
            SELECT COUNT(*) FROM docs d JOIN strata_topics p ON p.id = d.topic_parent_id AND p.level = 'parent'
            JOIN strata_topics t ON t.id = d.topic_id AND t.parent_id = p.id
            """) == "1000")
        // Plain SQL dot products of stored unit vectors: no underflow, ≈ 1 for a vector with itself.
        let selfDot = try PostgresTests.psql(url, """
            SELECT round(sum((a * b)::float8)::numeric, 1) FROM (SELECT unnest(embedding) AS a, unnest(embedding) AS b FROM docs) v
            """)
        #expect(selfDot == "1000.0")
        _ = try PostgresTests.psql(url, """
            SELECT sum(x.a * y.b) FROM (SELECT unnest(embedding) AS a, generate_series(1, 384) AS i FROM docs WHERE id = (SELECT min(id) FROM docs)) x
            JOIN (SELECT unnest(embedding) AS b, generate_series(1, 384) AS i, id FROM docs) y ON x.i = y.i GROUP BY y.id
            """)
        _ = try PostgresTests.psql(url, """
            CREATE TABLE touched (id text);
            CREATE FUNCTION note_update() RETURNS trigger AS $$ BEGIN INSERT INTO touched VALUES (NEW.id); RETURN NEW; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER count_updates AFTER UPDATE ON docs FOR EACH ROW EXECUTE FUNCTION note_update();
            UPDATE docs SET text = text || ' (revised)' WHERE id IN (SELECT id FROM docs ORDER BY id LIMIT 10);
            DELETE FROM touched;
            """)
        let again = try runProcess(bin, ["run", source, "--state", state, "--write-embeddings", "--quiet"])
        #expect(again.status == 0 || again.status == 3, "stderr: \(again.stderr)")
        let touched = Int(try PostgresTests.psql(url, "SELECT COUNT(DISTINCT id) FROM touched")) ?? -1
        #expect(touched >= 10 && touched <= 20, "\(touched) of 1000 rows updated")
    }
}

@Suite("curation: rename, pin, merge")
struct CurationTests {
    @Test("edits are validated against the committed topics; merges follow chains and refuse cycles")
    func edits() throws {
        let topics = previousRun([0: ["a"], 1: ["b"], 2: ["c"]]).document.topics
        var c = Curation()
        _ = try CurationEdit.rename(topic: 1, label: "  Billing questions ", description: nil).apply(to: &c, topics: topics)
        #expect(c.renames[1]?.label == "Billing questions")
        #expect(throws: StrataError.self) { try CurationEdit.rename(topic: 7, label: "x", description: nil).apply(to: &c, topics: topics) }
        #expect(throws: StrataError.self) { try CurationEdit.rename(topic: 0, label: " ", description: nil).apply(to: &c, topics: topics) }
        _ = try CurationEdit.pin(topic: 2).apply(to: &c, topics: topics)
        #expect(c.renames[2]?.label == "topic 2")
        _ = try CurationEdit.merge(into: 0, merged: 1).apply(to: &c, topics: topics)
        _ = try CurationEdit.merge(into: 1, merged: 2).apply(to: &c, topics: topics)
        #expect(c.survivor(of: 2) == 0 && c.survivor(of: 1) == 0 && c.survivor(of: 0) == 0)
        #expect(throws: StrataError.self) { try CurationEdit.merge(into: 2, merged: 0).apply(to: &c, topics: topics) }
        _ = try CurationEdit.unpin(topic: 2).apply(to: &c, topics: topics)
        #expect(c.renames[2] == nil)
    }

    @Test("a rename and a merge survive an incremental run and a --full refit (release CLI)", .needsReleaseBinary)
    func surviveRuns() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let (dir, input) = try fittedSample(bin, "fortunes-3000.jsonl", count: 1500, k: 8)
        let state = dir + "/.strata"
        let rename = try runProcess(bin, ["topics", "rename", "2", "Billing questions", "--state", state])
        #expect(rename.status == 0, "stderr: \(rename.stderr)")
        let merge = try runProcess(bin, ["topics", "merge", "0", "5", "--state", state])
        #expect(merge.status == 0, "stderr: \(merge.stderr)")
        #expect(try runProcess(bin, ["topics", "merge", "5", "0", "--state", state]).status == 2)

        func check(_ when: String) throws {
            let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/topics.json"))) as! [String: Any]
            let topics = doc["topics"] as! [[String: Any]]
            let renamed = topics.first { $0["id"] as? Int == 2 }
            #expect(renamed?["label"] as? String == "Billing questions" && renamed?["label_source"] as? String == "user", "\(when)")
            #expect(!topics.contains { $0["id"] as? Int == 5 }, "\(when): topic 5 still listed")
            let rows = try jsonLines(dir + "/docs.topics.jsonl")
            #expect(!rows.contains { $0["topic_id"] as? Int == 5 }, "\(when): a row still has topic 5")
            let labels = Set(rows.filter { $0["topic_id"] as? Int == 2 }.map { $0["topic_label"] as! String })
            #expect(labels == ["Billing questions"], "\(when): \(labels)")
            let sizes = topics.reduce(0) { $0 + ($1["size"] as! Int) }
            #expect(sizes == 1500, "\(when)")
        }
        // The edits apply on the next run; more documents arrive meanwhile.
        try writeSample("fortunes-3000.jsonl", count: 1530, to: input)
        let incremental = try runProcess(bin, ["run", input, "--quiet", "--json-log"])
        #expect(incremental.status == 0 && incremental.stderr.contains("\"mode\":\"incremental\""), "stderr: \(incremental.stderr)")
        try writeSample("fortunes-3000.jsonl", count: 1500, to: input)
        #expect(try runProcess(bin, ["run", input, "--quiet"]).status == 0)
        try check("after an incremental run")
        #expect(try runProcess(bin, ["run", input, "--full", "--quiet"]).status == 0)
        try check("after a --full refit")
    }
}

@Suite("export: Parquet for DuckDB and LanceDB, compact JSONL (release CLI)", .needsReleaseBinary)
struct ExportTests {
    @Test("a topic-filtered vector search over the Parquet export in DuckDB and LanceDB returns strata search's ids")
    func searchAgrees() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let (dir, input) = try fittedSample(bin, "fortunes-3000.jsonl", count: 600, k: 8)
        let parquet = try runProcess(bin, ["export", input, "--out", dir + "/t.parquet", "--quiet"])
        #expect(parquet.status == 0, "stderr: \(parquet.stderr)")
        let jsonl = try runProcess(bin, ["export", input, "--out", dir + "/t.jsonl", "--with-text", "--quiet"])
        #expect(jsonl.status == 0, "stderr: \(jsonl.stderr)")
        let rows = try jsonLines(dir + "/t.jsonl")
        #expect(rows.count == 600)
        // Compact floats: at most 9 significant digits (17-digit doubles take over 20 bytes a component).
        let bytes = (try FileManager.default.attributesOfItem(atPath: dir + "/t.jsonl")[.size] as? Int) ?? 0
        #expect(bytes < 600 * 384 * 14 + 600 * 400, "\(bytes) bytes")
        #expect(rows.allSatisfy { ($0["topic_parent_label"] as? String) != nil && ($0["vector"] as? [Double])?.count == 384 })
        for topic in [1, 4] {
            let query = rows.first { $0["topic_id"] as? Int == topic }!
            let peers = try runProcess("/usr/bin/env", ["python3", repoRoot.path + "/scripts/tests/export_check.py", dir + "/t.parquet",
                                                        String(topic), query["id"] as! String, "10"])
            #expect(peers.status == 0, "stderr: \(peers.stderr)")
            let found = try JSONSerialization.jsonObject(with: Data(peers.stdout.utf8)) as! [String: Any]
            let search = try runProcess(bin, ["search", query["text"] as! String, "--topic", String(topic), "-k", "10",
                                              "--state", dir + "/.strata", "--json"])
            let ids = (try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as! [[String: Any]]).map { $0["id"] as! String }
            #expect(ids.count == 10)
            #expect(found["duckdb"] as? [String] == ids, "topic \(topic): DuckDB \(found["duckdb"] ?? "") vs strata \(ids)")
            #expect(found["lancedb"] as? [String] == ids, "topic \(topic): LanceDB \(found["lancedb"] ?? "") vs strata \(ids)")
            #expect(found["rows"] as? Int == 600)
        }
    }
}

@Suite("assign --text (release CLI)", .needsReleaseBinary)
struct AssignTextTests {
    @Test("a document's own text, assigned from stdin, lands on its recorded topic; no SOURCE is written")
    func ownTopic() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let (dir, input) = try fittedSample(bin, "wordnet-nouns-3000.jsonl", count: 800, k: 10)
        let rows = try jsonLines(dir + "/docs.topics.jsonl")
        let picked = stride(from: 0, to: rows.count, by: 20).map { rows[$0] }
        let stdin = dir + "/texts.txt"
        try picked.map { ($0["text"] as! String).replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n")
            .write(toFile: stdin, atomically: true, encoding: .utf8)
        let r = try runProcess("/bin/sh", ["-c", "'\(bin)' assign --stdin --json --state '\(dir)/.strata' < '\(stdin)'"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let got = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        #expect(got.count == picked.count)
        let same = zip(got, picked).filter { ($0["nearest_id"] as? Int) == ($1["topic_id"] as? Int) }.count
        #expect(Double(same) >= 0.95 * Double(picked.count), "\(same) of \(picked.count) on their recorded topic")
        #expect(got.allSatisfy { ($0["runner_up_id"] as? Int) != ($0["nearest_id"] as? Int) })
        let both = try runProcess(bin, ["assign", input, "--text", "x", "--state", dir + "/.strata"])
        #expect(both.status == 2)
    }
}

@Suite("time field: topic shares over time (release CLI)", .needsReleaseBinary)
struct TimeFieldTests {
    @Test("--time-field counts every dated document per day; --over-time sums months and names what grew; runs remember the field")
    func overTime() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let dir = makeTempDir()
        let input = dir + "/docs.jsonl", state = dir + "/.strata"
        let records = try sampleRecords("fortunes-3000.jsonl", count: 900)
        let start = ISO8601DateFormatter().date(from: "2026-01-01T00:00:00Z")!
        var lines: [String] = []
        for (i, r) in records.enumerated() {
            var r = r
            // Computer documents all arrive in May: a topic that grows.
            let day = (r["category"] as? String) == "computers" ? 120 + i % 30 : (i * 7) % 150
            r["created"] = i % 45 == 0 ? "someday" : ISO8601DateFormatter().string(from: start.addingTimeInterval(Double(day) * 86_400))
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: r), as: UTF8.self))
        }
        try lines.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let bad = try runProcess(bin, ["run", input, "--k", "8", "--time-field", "nope", "--quiet"])
        #expect(bad.status == 2 && bad.stderr.contains("--time-field nope"), "stderr: \(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state + "/topics.json"))
        #expect(try runProcess(bin, ["run", input, "--k", "8", "--time-field", "created", "--quiet"]).status == 0)

        func overTime() throws -> [String: Any] {
            let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/topics.json"))) as! [String: Any]
            return doc["over_time"] as! [String: Any]
        }
        let first = try overTime()
        let undated = first["undated"] as! Int
        #expect(undated == 20)
        #expect((first["counts"] as! [[Int]]).reduce(0) { $0 + $1[2] } == 900 - undated)
        let table = try runProcess(bin, ["topics", "--state", state, "--over-time", "--by", "month"])
        #expect(table.status == 0, "stderr: \(table.stderr)")
        for month in ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"] { #expect(table.stdout.contains(month + " "), "\(table.stdout)") }
        #expect(table.stdout.contains("grew most from 2026-04 to 2026-05"))
        // An incremental run without the flag keeps the field.
        #expect(try runProcess(bin, ["run", input, "--quiet"]).status == 0)
        #expect(try overTime()["field"] as? String == "created")
        #expect(try runProcess(bin, ["report", "--state", state, "--out", dir + "/r.html"]).status == 0)
        #expect(try String(contentsOfFile: dir + "/r.html", encoding: .utf8).contains("id=\"timeline\""))
    }
}

@Suite("seed topics (release CLI)", .needsReleaseBinary)
struct SeedTopicsTests {
    @Test("a fit starts from --seed-topics: the topic a seed grows into is about it and keeps its label through later runs")
    func seeded() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let dir = makeTempDir()
        let input = dir + "/docs.jsonl", seeds = dir + "/seeds.txt", state = dir + "/.strata"
        try writeSample("fortunes-3000.jsonl", count: 3000, to: input)
        try "# expected topics\nComputers and software: programs, unix, bugs and programmers\n\nLove and marriage: husbands, wives, romance\n"
            .write(toFile: seeds, atomically: true, encoding: .utf8)
        try "Only: one\nOnly: twice\n".write(toFile: dir + "/dup.txt", atomically: true, encoding: .utf8)
        #expect(try runProcess(bin, ["run", input, "--k", "10", "--seed-topics", dir + "/dup.txt", "--quiet"]).status == 2)
        let r = try runProcess(bin, ["run", input, "--k", "10", "--seed-topics", seeds, "--quiet"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let category = Dictionary(uniqueKeysWithValues: try sampleRecords("fortunes-3000.jsonl", count: 3000)
            .map { ($0["id"] as! String, $0["category"] as! String) })
        func seededTopics() throws -> [String: [String: Any]] {
            let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/topics.json"))) as! [String: Any]
            let topics = (doc["topics"] as! [[String: Any]]).filter { $0["label_source"] as? String == "user" }
            return Dictionary(uniqueKeysWithValues: topics.map { ($0["label"] as! String, $0) })
        }
        let first = try seededTopics()
        #expect(Set(first.keys) == ["Computers and software", "Love and marriage"])
        let computing = (first["Computers and software"]?["document_ids"] as? [String] ?? []).map { category[$0] ?? "" }
        let technical = computing.filter { ["computers", "linux", "knghtbrd", "perl", "debian"].contains($0) }.count
        #expect(Double(technical) >= 0.5 * Double(max(1, computing.count)), "\(technical) of \(computing.count) technical")
        // Later runs (incremental, then a refit without the seeds) keep the labels on the same topics.
        #expect(try runProcess(bin, ["run", input, "--quiet"]).status == 0)
        #expect(try runProcess(bin, ["run", input, "--full", "--quiet"]).status == 0)
        let later = try seededTopics()
        #expect(Set(later.keys) == ["Computers and software", "Love and marriage"])
        #expect(later["Computers and software"]?["id"] as? Int == first["Computers and software"]?["id"] as? Int)
    }
}
