import Foundation

/// Where vectors are cached, keyed by (embedder fingerprint, SHA-256 of the text): the state
/// database on one machine, or a store every worker of a sharded run reaches (PostgreSQL,
/// `StrataPostgres.SharedStore`). A key always maps to the same vector (the embedder is deterministic), so a second store of a key
/// changes nothing.
public protocol EmbeddingCache: AnyObject {
    /// The cached vectors of `hashes` (duplicates allowed), one buffer in `hashes` order.
    func cachedEmbeddingRows(model: String, hashes: [String]) async throws -> StateDatabase.CachedRows
    /// Stores vectors; a key already stored keeps its vector.
    func storeEmbeddings(model: String, _ entries: [(hash: String, vector: [Float])]) async throws
}

extension StateDatabase: EmbeddingCache {
    /// The cache document vectors go through: the shared store when one is attached
    /// (``sharedEmbeddings``), else this database.
    public var embeddings: any EmbeddingCache { sharedEmbeddings ?? self }
}
