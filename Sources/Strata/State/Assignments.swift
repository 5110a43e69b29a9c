import StrataStore

/// The one place a document's state row is made: id, content hash, topic, score and the snippet that
/// search shows.
enum Assignments {
    /// Characters of the text kept as the row's snippet.
    static let snippetLength = 300

    static func row(_ d: Document, topic: Int, score: Double) -> StateDatabase.Assignment {
        StateDatabase.Assignment(id: d.id, hash: d.contentHash, topic: topic, score: score, snippet: String(d.text.prefix(snippetLength)))
    }

    /// Every document's row, made when it is written (see ``StateDatabase/AssignmentRows``).
    static func rows(_ docs: [Document], topics: [Int], scores: [Double]) -> StateDatabase.AssignmentRows {
        precondition(topics.count == docs.count && scores.count == docs.count, "Assignments.rows: one topic and score per document")
        return StateDatabase.AssignmentRows(count: docs.count) { row(docs[$0], topic: topics[$0], score: scores[$0]) }
    }
}
