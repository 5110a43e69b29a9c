import Foundation
import StrataStore

/// The slice of the documents that one worker of a sharded step owns (issue #14: embed and assign run
/// as N independent workers under a scheduler's job array).
///
/// A document's shard is a function of its id alone — the first 8 bytes of SHA-256(id), big-endian,
/// modulo N — so a document never moves between shards when others are added or removed, and every
/// worker computes the same partition without coordination. Not yet wired to a command: the sharded
/// embed/fit/assign steps over a shared PostgreSQL state are still to be built.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// 0-based index of this worker, `0 ..< count`.
    public let index: Int
    /// Number of workers (≥ 1).
    public let count: Int

    public var description: String { "\(index)/\(count)" }

    /// - Throws: ``StrataError`` `.usage` unless `count ≥ 1` and `0 ≤ index < count`.
    public init(index: Int, count: Int, source: String = "--shard") throws {
        guard count >= 1, index >= 0, index < count else {
            throw StrataError(.usage, "\(source): shard \(index) of \(count) is out of range; use i/N with 0 ≤ i < N (e.g. --shard 0/4)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `--shard i/N`. O(1).
    /// - Throws: ``StrataError`` `.usage` naming the option and the expected form.
    public static func parse(_ text: String) throws -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw StrataError(.usage, "--shard \(text): expected i/N with 0 ≤ i < N, e.g. --shard 0/4")
        }
        return try Shard(index: i, count: n)
    }

    /// The shard a scheduler assigned to this process, if any:
    /// - Slurm job arrays: `SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT`
    ///   (the array must be contiguous, `--array=0-3` or `1-4`; a stepped array is refused);
    /// - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` of `STRATA_SHARD_COUNT` (Kubernetes does not
    ///   pass the completion count to the pod; the manifest sets it).
    /// - Throws: ``StrataError`` `.usage` naming the variable when the values are inconsistent.
    public static func fromEnvironment(_ env: [String: String]) throws -> Shard? {
        func int(_ name: String) throws -> Int? {
            guard let raw = env[name], !raw.isEmpty else { return nil }
            guard let v = Int(raw) else { throw StrataError(.usage, "\(name)=\(raw) is not an integer") }
            return v
        }
        if let id = try int("SLURM_ARRAY_TASK_ID") {
            let lo = try int("SLURM_ARRAY_TASK_MIN") ?? 0
            guard let n = try int("SLURM_ARRAY_TASK_COUNT") else {
                throw StrataError(.usage, "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; run under sbatch --array or pass --shard i/N")
            }
            if let hi = try int("SLURM_ARRAY_TASK_MAX"), hi - lo + 1 != n {
                throw StrataError(.usage, "the Slurm array \(lo)-\(hi) has \(n) tasks, not \(hi - lo + 1): use a contiguous --array (e.g. 0-\(n - 1)) or pass --shard i/N")
            }
            return try Shard(index: id - lo, count: n, source: "SLURM_ARRAY_TASK_ID")
        }
        if let id = try int("JOB_COMPLETION_INDEX") {
            guard let n = try int("STRATA_SHARD_COUNT") else {
                throw StrataError(.usage, "JOB_COMPLETION_INDEX is set but STRATA_SHARD_COUNT is not; set it to the Job's completions or pass --shard i/N")
            }
            return try Shard(index: id, count: n, source: "JOB_COMPLETION_INDEX")
        }
        return nil
    }

    /// `--shard` when given, else the scheduler's variables, else nil (the whole corpus).
    public static func resolve(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Shard? {
        if let option { return try parse(option) }
        return try fromEnvironment(environment)
    }

    /// The shard (0 ..< count) that owns the document with this id. O(|id|).
    public static func of(_ documentID: String, count: Int) -> Int {
        precondition(count >= 1)
        let digest = SHA256.digest(documentID.utf8)
        let prefix = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Int(prefix % UInt64(count))
    }

    /// Whether this worker owns the document.
    public func owns(_ documentID: String) -> Bool { Self.of(documentID, count: count) == index }
}
