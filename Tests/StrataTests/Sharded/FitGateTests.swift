import Foundation
@testable import Strata
@testable import StrataPostgres
@testable import StrataStore
import Testing

/// The sharded fit's gate, in process: it starts only when every embed shard of the current shard
/// count finished and every document has a vector, and otherwise names what to rerun.
@Suite("Sharded fit gate (pure decisions)")
struct FitGateTests {
    static func record(_ shard: Int, of count: Int, _ status: String, started: String = "2026-12-02T01:00:00Z",
                       error: String? = nil) -> ShardRecord {
        ShardRecord(step: "embed", shard: shard, count: count, status: status, attempt: status == "done" ? 1 : 2, host: "node7", pid: 4242,
                    started: started, updated: started, finished: status == "done" ? started : nil, documents: 100,
                    processed: status == "done" ? 100 : 40, seconds: 10, perSecond: 10, failures: status == "done" ? 0 : 1, error: error)
    }

    @Test("no ledger rows: nil (no embed shard ever ran)")
    func nothingRan() {
        #expect(FitGate.unfinished([]) == nil)
    }

    @Test("all shards of the current count done: nothing unfinished")
    func allDone() {
        let r = (0..<4).map { Self.record($0, of: 4, "done") }
        #expect(FitGate.unfinished(r) == [])
    }

    @Test("running, failed and never-run shards are each named with what to do")
    func namesUnfinished() throws {
        let r = [Self.record(0, of: 4, "done"), Self.record(1, of: 4, "running"),
                 Self.record(3, of: 4, "failed", error: "embedding server answered 503")]
        let u = try #require(FitGate.unfinished(r))
        #expect(u.count == 3)
        #expect(u[0].hasPrefix("shard 1/4 running on node7 (pid 4242, attempt 2, 40 of 100"))
        #expect(u[0].contains("rerun the shard"))
        #expect(u[1] == "shard 2/4 never ran")
        #expect(u[2] == "shard 3/4 failed on node7 (attempt 2): embedding server answered 503")
    }

    @Test("the shard count of the most recently started shard is the current one; older counts are ignored")
    func latestCountWins() throws {
        let old = (0..<2).map { Self.record($0, of: 2, "running", started: "2026-12-01T01:00:00Z") }
        let now = (0..<3).map { Self.record($0, of: 3, "done", started: "2026-12-02T01:00:00Z") }
        #expect(FitGate.unfinished(old + now) == [])
        #expect(FitGate.latest(old + now)?.count == 3)
        // Tonight's first shard started with 2 again: the 2-way ledger is current, its running shards block.
        let again = [Self.record(0, of: 2, "done", started: "2026-12-03T01:00:00Z")]
        #expect(try #require(FitGate.unfinished(now + old.suffix(1) + again)) == ["shard 1/2 running on node7 (pid 4242, attempt 2, 40 of 100 documents, last progress 2026-12-01T01:00:00Z); if that worker is gone, rerun the shard"])
    }

    @Test("documents without a vector are counted per shard of the current count")
    func uncovered() {
        let docs = (0..<200).map { Document(id: "doc-\($0)", text: "text \($0)") }
        let have = Set(docs.filter { Shard.of($0.id, count: 4) != 2 }.map(\.contentHash))
        let missing = docs.filter { Shard.of($0.id, count: 4) == 2 }.count
        #expect(FitGate.uncovered(docs, have: have, count: 4) == ["shard 2/4: \(missing) document(s)"])
        #expect(FitGate.uncovered(docs, have: Set(docs.map(\.contentHash)), count: 4).isEmpty)
    }
}
