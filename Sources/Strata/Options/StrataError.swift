/// The app's one error type: a failure of a Strata command, with the exit code it maps to and, when it
/// wraps a lower layer's error (``SourceError``, `SQLiteDatabase.Error`, ``EmbedError``, ``LinalgError``,
/// an HTTP error), that error. The executable turns it into a message and an exit code in one place
/// (`fail` in `Sources/strata/Strata.swift`); other errors reach it unwrapped and exit 1.
public struct StrataError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; extensible (a new kind is one more static constant) and mapped to
    /// the documented exit codes.
    public struct Kind: Hashable, Sendable {
        let exitCode: Int32
        /// Bad arguments (exit 2).
        public static let usage = Kind(exitCode: 2)
        /// The run failed and wrote nothing (exit 1).
        public static let failed = Kind(exitCode: 1)
        /// Another run holds the state lock (exit 4).
        public static let locked = Kind(exitCode: 4)
        /// A sharded step's inputs are not ready: an embed shard unfinished, no fit published (exit 5).
        /// A scheduler may retry later; the message names what is missing.
        public static let notReady = Kind(exitCode: 5)
    }
    public let kind: Kind
    public let message: String
    /// The lower layer's error this one reports, if any.
    public let underlying: (any Error & Sendable)?

    public init(_ kind: Kind, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }
    public var description: String { message }
    public var exitCode: Int32 { kind.exitCode }
}
