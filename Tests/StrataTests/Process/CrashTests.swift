import Foundation
import Strata
import StrataStore
import Testing

/// Crash safety (issue 5): `strata run` killed with SIGKILL in every stage never leaves a half-written
/// state, topics.json or topic column, and the next run completes.
@Suite("crash safety: SIGKILL in every stage (release CLI)", .serialized, .needsReleaseBinary)
struct CrashTests {
    /// Starts `strata run … --json-log`, waits for the stage `target` to begin, sleeps up to
    /// `maxDelay` seconds and kills the process. Returns the stage the run was in when killed, or nil
    /// when the run ended first.
    static func killDuring(_ bin: String, _ args: [String], target: String, delay: Double) throws -> String? {
        let (p, handle) = try launchWithJSONLog(bin, args)
        var buffer = Data()
        var stage: String?
        var triggered = false
        while !triggered {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let nl = buffer.firstIndex(of: 10) {
                let line = buffer[buffer.startIndex..<nl]
                buffer = Data(buffer[(nl + 1)...])
                guard let o = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
                      o["event"] as? String == "stage", let s = o["stage"] as? String else { continue }
                stage = s
                if s.hasPrefix(target) { triggered = true; break }
            }
        }
        if triggered {
            usleep(UInt32(delay * 1_000_000))
            kill(p.processIdentifier, SIGKILL)
        }
        // Drain the pipe so the process can finish when it was not killed.
        _ = handle.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL { return stage ?? "start" }
        return nil
    }

    /// Problems with the outputs as a crash could have left them (empty when intact).
    static func inspect(dir: String, db: String) -> [String] {
        var problems: [String] = []
        do {
            let state = try SQLiteDatabase(path: dir + "/.strata/state.db")
            let ok = try state.query("PRAGMA integrity_check").first?.first?.string
            if ok != "ok" { problems.append("state.db integrity: \(ok ?? "nil")") }
            let runs = Set(try state.query("SELECT id FROM runs").compactMap { $0.first?.string })
            let doc = try TopicsDocument.load(dir + "/.strata/topics.json")
            if !runs.contains(doc.run.id) { problems.append("topics.json names run \(doc.run.id), which the state never committed") }
            if doc.topics.reduce(0, { $0 + ($1.documentIDs?.count ?? 0) }) + (doc.drift?.documentsUnassigned ?? 0) != doc.run.counts.documents {
                problems.append("topics.json members do not add up to its document count")
            }
            let source = try SQLiteDatabase(path: db)
            let sok = try source.query("PRAGMA integrity_check").first?.first?.string
            if sok != "ok" { problems.append("source integrity: \(sok ?? "nil")") }
            // Rows keep the run that last changed them; every such run was committed, except at most the
            // killed run's own (its source write committed, its state commit did not happen).
            let stamps = Set(try source.query("SELECT DISTINCT topic_run FROM docs WHERE topic_run IS NOT NULL").compactMap { $0.first?.string })
            let uncommitted = stamps.subtracting(runs)
            if uncommitted.count > 1 { problems.append("topic columns name \(uncommitted.count) runs the state never committed") }
            let unstamped = try source.query("SELECT COUNT(*) FROM docs WHERE topic_run IS NULL AND topic_id IS NOT NULL").first?.first?.int
            if unstamped != 0 { problems.append("\(unstamped ?? -1) rows with a topic but no run (a partial write)") }
            let orphans = try source.query("""
                SELECT COUNT(*) FROM docs WHERE topic_run IS NOT NULL AND topic_id <> -1
                AND topic_id NOT IN (SELECT id FROM strata_topics)
                """).first?.first?.int
            if orphans != 0 { problems.append("\(orphans ?? -1) rows name a topic missing from strata_topics") }
        } catch {
            problems.append("unreadable: \(error)")
        }
        return problems
    }

    @Test("≥ 30 SIGKILLs across fit, labeling and writing: 0 corruptions, and the next run completes")
    func sigkill() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let dir = makeTempDir()
        let db = dir + "/corpus.db"
        try makeSQLiteCorpus(try sampleRecords("wordnet-nouns-3000.jsonl", count: 3000), labelField: "lexname", path: db)
        let extra = try sampleRecords("fortunes-3000.jsonl", count: 1500)
        let source = "sqlite:\(db)?table=docs"
        let first = try runProcess(bin, ["run", source, "--k", "12", "--quiet"])
        #expect(first.status == 0, "stderr: \(first.stderr)")

        var rng = SeededRandom(seed: UInt64(Date().timeIntervalSince1970))
        // Writing is short and holds the most delicate moments, so it is aimed at more often and sooner.
        let fullStages = ["read", "embed", "write", "reduce", "cluster", "describe", "write", "label", "hierarchy", "write"]
        let incrementalStages = ["read", "embed", "write", "assign", "describe", "label", "write"]
        var kills = 0, corruptions = 0, attempts = 0, added = 0
        var turn = [0, 0]
        var hit: [String: Int] = [:]
        // Every stage of a full run must be hit at least once; short stages can slip past a kill, so
        // after 32 kills the missing ones are aimed at directly.
        let required: Set<String> = ["embed", "cluster", "label", "write"]
        while (kills < 32 || !required.isSubset(of: Set(hit.keys))) && attempts < 100 {
            attempts += 1
            // New and changed documents for the incremental runs.
            let sql = try SQLiteDatabase(path: db)
            try sql.transaction {
                let ins = try sql.prepare("INSERT INTO docs (id, text, lexname) VALUES (?, ?, '')")
                for r in extra[added..<min(extra.count, added + 15)] { try ins.run([.text(r["id"] as! String), .text(r["text"] as! String)]) }
                try sql.query("UPDATE docs SET text = text || ' (revised)' WHERE id IN (SELECT id FROM docs ORDER BY random() LIMIT 5)")
            }
            added += 15
            let missing = kills >= 32 ? required.subtracting(hit.keys).sorted().first : nil
            let full = missing != nil || attempts % 2 == 0
            let stages = full ? fullStages : incrementalStages
            let target = missing ?? stages[turn[full ? 0 : 1] % stages.count]
            if missing == nil { turn[full ? 0 : 1] += 1 }
            var args = ["run", source, "--k", "12"]
            if full { args += ["--full", "--seed", String(attempts)] }
            let delay = rng.uniform() * (target == "write" || target == "label" ? 0.03 : 0.15)
            guard let stage = try Self.killDuring(bin, args, target: target, delay: delay) else { continue }
            kills += 1
            hit[String(stage.split(separator: " ").first ?? ""), default: 0] += 1
            let problems = Self.inspect(dir: dir, db: db)
            if !problems.isEmpty {
                corruptions += 1
                Issue.record("after a kill in \(full ? "full" : "incremental") stage \(stage): \(problems)")
            }
        }
        let last = try runProcess(bin, ["run", source, "--k", "12", "--quiet"])
        #expect(last.status == 0 || last.status == 3, "stderr: \(last.stderr)")
        #expect(Self.inspect(dir: dir, db: db).isEmpty)
        // After a clean run the columns agree with the state row for row, and name only committed runs.
        let state = try SQLiteDatabase(path: dir + "/.strata/state.db")
        let recorded = Dictionary(uniqueKeysWithValues: try state.query("SELECT id, topic_id FROM documents").map { ($0[0].string!, $0[1].int!) })
        let committed = Set(try state.query("SELECT id FROM runs").compactMap { $0.first?.string })
        let rows = try SQLiteDatabase(path: db).query("SELECT id, topic_id, topic_run FROM docs")
        #expect(rows.allSatisfy { recorded[$0[0].string!] == $0[1].int && committed.contains($0[2].string ?? "") })
        print("crash test: \(kills) SIGKILLs in \(attempts) runs, by stage \(hit.sorted { $0.key < $1.key }), \(corruptions) corruptions")
        #expect(kills >= 30)
        #expect(corruptions == 0)
        #expect(Set(hit.keys).isSuperset(of: ["embed", "cluster", "label", "write"]))
    }
}
