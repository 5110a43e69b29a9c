import Foundation

/// One shard's row in the ledger (`strata.shards`): the progress and accounting of its latest attempt.
public struct ShardRecord: Codable, Sendable, Equatable {
    /// `embed` or `assign`.
    public var step: String
    public var shard: Int
    public var count: Int
    /// `running`, `done` or `failed` (a killed worker stays `running`; `updated` says since when).
    public var status: String
    /// Attempts since the shard last finished (1 on a first try).
    public var attempt: Int
    public var host: String
    public var pid: Int
    /// ISO 8601.
    public var started: String
    public var updated: String
    public var finished: String?
    /// Documents in the shard, and how many this attempt has embedded or written so far.
    public var documents: Int
    public var processed: Int
    /// Wall seconds of this attempt so far, and `processed / seconds`.
    public var seconds: Double
    public var perSecond: Double
    /// Attempts of this shard that did not finish before this one.
    public var failures: Int
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case step, shard, count, status, attempt, host, pid, started, updated, finished, documents, processed, seconds
        case perSecond = "per_second", failures, error
    }

    public init(step: String, shard: Int, count: Int, status: String, attempt: Int, host: String, pid: Int, started: String,
                updated: String, finished: String?, documents: Int, processed: Int, seconds: Double, perSecond: Double,
                failures: Int, error: String?) {
        self.step = step; self.shard = shard; self.count = count; self.status = status; self.attempt = attempt
        self.host = host; self.pid = pid; self.started = started; self.updated = updated; self.finished = finished
        self.documents = documents; self.processed = processed; self.seconds = seconds; self.perSecond = perSecond
        self.failures = failures; self.error = error
    }

    /// `2/4`.
    public var name: String { "\(shard)/\(count)" }
}
