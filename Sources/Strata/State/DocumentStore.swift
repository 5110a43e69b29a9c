import Foundation
import StrataPostgres
import StrataStore

/// Every source and sink behind one async interface: files and SQLite through ``SourceReader`` and
/// ``TopicWriter``, PostgreSQL through ``PostgresTable``.
public enum DocumentStore {
    /// Reads and validates the documents of `location` (see ``SourceReader/read(_:options:)``).
    public static func read(_ location: SourceLocation, options: ReadOptions) async throws -> ReadResult {
        defer { Heap.trim() }
        if case let .postgres(url, table) = location {
            return try await PostgresTable.read(url: url, table: table, options: options)
        }
        return try SourceReader.read(location, options: options)
    }

    /// The documents of one shard: PostgreSQL selects the shard's rows itself; other sources are read
    /// whole and filtered. Either way the result is checked against ``Shard/owns(_:)``.
    public static func read(_ location: SourceLocation, options: ReadOptions, shard: Shard) async throws -> ReadResult {
        defer { Heap.trim() }
        var read: ReadResult
        if case let .postgres(url, table) = location {
            read = try await PostgresTable.read(url: url, table: table, options: options, shard: (shard.index, shard.count))
        } else {
            read = try SourceReader.read(location, options: options)
        }
        let all = read.documents.count
        read.documents.removeAll { !shard.owns($0.id) }
        if case .postgres = location, read.documents.count != all {
            throw StrataError(.failed, "\(location): the server's shard \(shard) selection disagrees with Strata's for \(all - read.documents.count) id(s) "
                              + "(ids whose text form differs between PostgreSQL and JSON, e.g. floating-point ids?): use a text or integer id column")
        }
        return read
    }

    /// Writes the topic columns where the documents live; `embeddings` (PostgreSQL only) also fills an
    /// `embedding real[]` column. Returns where the columns went.
    public static func write(location: SourceLocation, options: ReadOptions, documents: [Document], columns: ColumnsByDocument,
                             topics: [TopicRow], embeddings: [String: [Float]]? = nil, committedRuns: [String] = []) async throws -> String {
        if case let .postgres(url, table) = location {
            let byID = Dictionary(uniqueKeysWithValues: documents.indices.map { (documents[$0].id, columns[$0]) })
            try await PostgresTable.write(url: url, table: table, idField: options.idField, columns: byID, topics: topics,
                                          embeddings: embeddings, committedRuns: committedRuns)
            return location.description
        }
        return try TopicWriter.write(location: location, options: options, documents: documents, columns: columns, topics: topics,
                                     committedRuns: committedRuns)
    }
}
