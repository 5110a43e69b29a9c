import Foundation
import StrataLabel
import StrataStore

/// Edits a person made to the topics (`strata topics rename|pin|merge`), kept in the state and applied
/// at the end of every run — incremental or refit — so they survive both: a refit keeps topic ids
/// through id matching, and the edits are keyed by id. A renamed topic reads `label_source: user`; a
/// merged topic's documents join the topic it was merged into (the fitted model keeps both centroids,
/// so new documents near either land in the survivor). An edit of a topic that a refit retires is kept
/// but has nothing to apply to (`strata topics` lists the edits).
public struct Curation: Codable, Equatable, Sendable {
    public struct Rename: Codable, Equatable, Sendable {
        public var label: String
        public var description: String?
        public init(label: String, description: String? = nil) { self.label = label; self.description = description }
    }

    /// User labels by topic id.
    public var renames: [Int: Rename] = [:]
    /// Merged topic id → the id it was merged into.
    public var merges: [Int: Int] = [:]

    public init() {}

    static let key = "curation"

    public var isEmpty: Bool { renames.isEmpty && merges.isEmpty }

    /// The edits recorded in `state` (none when nothing was edited).
    public static func load(_ state: StateDatabase) throws -> Curation {
        guard let data = try state.current(key) else { return Curation() }
        return try JSONDecoder().decode(Curation.self, from: data)
    }

    public func save(_ state: StateDatabase) throws { try state.setCurrent(Self.key, try encoded()) }

    func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return try e.encode(self)
    }

    /// The id `id` ends up as after every merge (chains followed; a cycle stops where it closes).
    public func survivor(of id: Int) -> Int {
        var current = id, seen: Set<Int> = [id]
        while let next = merges[current], seen.insert(next).inserted { current = next }
        return merges[current] == nil ? current : id
    }

    /// Applies the edits to a run's outcome: merged topics' documents move to their survivor (topics
    /// rebuilt from the new assignment, the survivor's label and keywords kept), then renames. O(n + k).
    func apply(to o: inout RunOutcome, documents docs: [Document]) {
        if !merges.isEmpty { applyMerges(to: &o, documents: docs) }
        for i in o.topics.indices {
            guard let r = renames[o.topics[i].id] else { continue }
            o.topics[i].label = r.label
            if let d = r.description { o.topics[i].description = d }
            o.topics[i].labelSource = .user
            o.topics[i].labelOrigin = .user
            o.topics[i].labelConfidence = nil
        }
        o.manifest.labeler.sources = LabelSource.tally(o.topics, o.hierarchy)
    }

    private func applyMerges(to o: inout RunOutcome, documents docs: [Document]) {
        let before = o.topicOfDocument
        o.topicOfDocument = before.map { $0 < 0 ? $0 : survivor(of: $0) }
        var members: [Int: [Int]] = [:]
        for (i, t) in o.topicOfDocument.enumerated() where t >= 0 { members[t, default: []].append(i) }
        var byID: [Int: Topic] = [:]
        for t in o.topics {
            let target = survivor(of: t.id)
            // The survivor keeps its own label and keywords; a survivor absent from this run takes the
            // first merged topic's, under the survivor's id.
            if byID[target] == nil || t.id == target {
                var kept = t
                kept.id = target
                kept.representativeIDs = (t.id == target ? t.representativeIDs : []) + (byID[target]?.representativeIDs ?? [])
                byID[target] = kept
            } else {
                byID[target]!.representativeIDs += t.representativeIDs
            }
        }
        o.topics = byID.values.sorted { $0.id < $1.id }.map { t in
            var t = t
            let m = members[t.id] ?? []
            t.size = m.count
            t.share = Double(m.count) / Double(max(1, docs.count))
            t.documentIDs = TopicsDocument.memberIDs(m, of: docs)
            t.representativeIDs = Array(t.representativeIDs.prefix(5))
            return t
        }
        // Each survivor stays under its own parent (a merged topic's parent loses it).
        o.hierarchy = o.hierarchy.map { p in
            var p = p
            p.children = o.topics.filter { $0.parentID == p.id }.map(\.id)
            return p
        }
        o.assignments = remapped(o.assignments, before: before, after: o.topicOfDocument, scores: o.scores, documents: docs)
    }

    /// The state's assignments with merged ids replaced; an incremental run also rewrites unchanged
    /// documents whose topic a new merge moved.
    private func remapped(_ change: StateDatabase.AssignmentChange, before: [Int], after: [Int], scores: [Double],
                          documents docs: [Document]) -> StateDatabase.AssignmentChange {
        func assignment(_ i: Int) -> StateDatabase.Assignment { Assignments.row(docs[i], topic: after[i], score: scores[i]) }
        switch change {
        case .replaceAll:
            return .replaceAll(Assignments.rows(docs, topics: after, scores: scores))
        case .delta(let upsert, let delete):
            let listed = Set(upsert.map(\.id))
            let moved = docs.indices.filter { !listed.contains(docs[$0].id) && before[$0] != after[$0] }
            let index = Dictionary(uniqueKeysWithValues: docs.enumerated().map { ($1.id, $0) })
            return .delta(upsert: upsert.map { index[$0.id].map(assignment) ?? $0 } + moved.map(assignment), delete: delete)
        }
    }
}

/// `strata topics rename|pin|unpin|merge`: validated against the committed topics and recorded in the
/// state under its lock; the next run (`strata run` or `strata assign`) applies them to the topic
/// columns and topics.json.
public enum CurationEdit: Sendable {
    case rename(topic: Int, label: String, description: String?)
    /// Keep the topic's current label through relabels and refits.
    case pin(topic: Int)
    /// Drop a rename or pin: the labeler names the topic again at its next relabel.
    case unpin(topic: Int)
    /// `merged`'s documents join `into`.
    case merge(into: Int, merged: Int)

    /// Records the edit; returns a line saying what was recorded.
    public func record(stateDirectory: String) throws -> String {
        let state = try CommittedState.open(stateDirectory)
        let lock = try Pipeline.takeLock(stateDirectory, reporter: SilentReporter())
        defer { lock.release() }
        let document = try CommittedState.topics(state, directory: stateDirectory).document
        var curation = try Curation.load(state)
        let line = try apply(to: &curation, topics: document.topics)
        try curation.save(state)
        return line + " — recorded in \(stateDirectory); the next `strata run` or `strata assign` applies it to the topic columns"
    }

    /// Validates the edit against `topics` and adds it to `curation`. Pure.
    func apply(to curation: inout Curation, topics: [Topic]) throws -> String {
        func topic(_ id: Int) throws -> Topic {
            guard let t = topics.first(where: { $0.id == id }) else {
                throw StrataError(.usage, "no topic \(id); the topics are " + topics.map { String($0.id) }.joined(separator: ", "))
            }
            return t
        }
        switch self {
        case let .rename(id, label, description):
            _ = try topic(id)
            let clean = label.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !clean.isEmpty, clean.count <= 200, !clean.contains("\n") else {
                throw StrataError(.usage, "a label is one line of 1–200 characters, got \"\(label)\"")
            }
            curation.renames[id] = .init(label: clean, description: description)
            return "topic \(id) renamed \"\(clean)\""
        case .pin(let id):
            let t = try topic(id)
            curation.renames[id] = .init(label: t.label, description: t.description)
            return "topic \(id) pinned as \"\(t.label)\""
        case .unpin(let id):
            guard curation.renames.removeValue(forKey: id) != nil else {
                throw StrataError(.usage, "topic \(id) has no rename or pin to remove")
            }
            return "topic \(id) unpinned"
        case let .merge(into, merged):
            _ = try topic(into); _ = try topic(merged)
            guard into != merged, curation.survivor(of: into) != merged else {
                throw StrataError(.usage, "cannot merge topic \(merged) into \(into): it would merge a topic into itself")
            }
            curation.merges[merged] = into
            return "topic \(merged) merged into \(into)"
        }
    }
}
