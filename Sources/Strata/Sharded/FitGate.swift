import Foundation
import StrataPostgres
import StrataStore

/// Whether the sharded fit may start. Pure decisions over the ledger and the stored vectors.
enum FitGate {
    /// The most recently started embed shard: its shard count is the current one.
    static func latest(_ records: [ShardRecord]) -> ShardRecord? {
        records.max { ($0.started, $0.count) < ($1.started, $1.count) }
    }

    /// Each embed shard of the current shard count that is not done, described for the operator
    /// (empty when all are done); nil when no embed shard ever ran.
    static func unfinished(_ records: [ShardRecord]) -> [String]? {
        guard let latest = latest(records) else { return nil }
        var byShard: [Int: ShardRecord] = [:]
        for r in records where r.count == latest.count { byShard[r.shard] = r }
        return (0..<latest.count).compactMap { i in
            guard let r = byShard[i] else { return "shard \(i)/\(latest.count) never ran" }
            switch r.status {
            case "done": return nil
            case "failed": return "shard \(r.name) failed on \(r.host) (attempt \(r.attempt)): \(r.error ?? "no message")"
            default:
                return "shard \(r.name) running on \(r.host) (pid \(r.pid), attempt \(r.attempt), \(r.processed) of \(r.documents) "
                    + "documents, last progress \(r.updated)); if that worker is gone, rerun the shard"
            }
        }
    }

    /// Shards (of `count`) holding documents whose text has no vector, with how many: "shard 2/4: 12 documents".
    static func uncovered(_ docs: [Document], have: Set<String>, count: Int) -> [String] {
        var missing: [Int: Int] = [:]
        for d in docs where !have.contains(d.contentHash) { missing[Shard.of(d.id, count: count), default: 0] += 1 }
        return missing.keys.sorted().map { "shard \($0)/\(count): \(missing[$0]!) document(s)" }
    }
}
