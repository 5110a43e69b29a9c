import Foundation
import StrataStore

/// What the last committed run left in the state database.
struct PreviousRun {
    var document: TopicsDocument
    /// The encoded document exactly as the last run wrote it to the state and to topics.json.
    var documentData: Data
    var model: FittedModel
    var recorded: [String: StateDatabase.RecordedDocument]
    var nextID: Int

    static let documentKey = "topics_document", modelKey = "fitted_model", nextIDKey = "next_topic_id"

    static func load(_ state: StateDatabase) throws -> PreviousRun? {
        guard let d = try state.current(documentKey), let m = try state.current(modelKey) else { return nil }
        let document = try JSONDecoder().decode(TopicsDocument.self, from: d)
        let model = try JSONDecoder().decode(FittedModel.self, from: m)
        let next = try state.current(nextIDKey).flatMap { Int(String(decoding: $0, as: UTF8.self)) }
            ?? ((document.topics.map(\.id).max() ?? -1) + 1)
        return PreviousRun(document: document, documentData: d, model: model, recorded: try state.recordedDocuments(), nextID: next)
    }
}

/// The state a run left behind, for the commands that only read it (topics, search, eval, report).
public enum CommittedState {
    /// Opens `directory`'s state database (and registers its corpus fit, so `fitted:DIGEST` embeds); a usage error — not a new, empty state — when no run has
    /// written there (a mistyped `--state` used to create the directory and then report "no topics").
    public static func open(_ directory: String) throws -> StateDatabase {
        let path = (directory as NSString).appendingPathComponent("state.db")
        guard FileManager.default.fileExists(atPath: path) else { throw noTopics(directory) }
        let state = try StateDatabase(directory: directory)
        try FittedEmbedding.load(from: state)
        return state
    }

    static func noTopics(_ directory: String) -> StrataError {
        StrataError(.usage, "no topics in \(directory): run `strata run SOURCE` first (or pass --state DIR)")
    }

    /// The topics document the last run committed with its assignments, and its exact bytes. topics.json
    /// beside it is a copy for people (it can be edited, or lag one run behind after a crash — the next run
    /// repairs it); readers take this one so topics and document assignments always agree.
    public static func topics(_ directory: String) throws -> (document: TopicsDocument, data: Data) {
        try topics(open(directory), directory: directory)
    }

    /// The committed topics document of an open state (see ``topics(_:)``).
    static func topics(_ state: StateDatabase, directory: String) throws -> (document: TopicsDocument, data: Data) {
        guard let data = try state.current(PreviousRun.documentKey) else { throw noTopics(directory) }
        return (try JSONDecoder().decode(TopicsDocument.self, from: data), data)
    }

    /// The last committed run (document, fitted model, recorded documents) with its open database —
    /// what eval, report and export read.
    static func previous(_ directory: String) throws -> (state: StateDatabase, previous: PreviousRun) {
        let state = try open(directory)
        guard let previous = try PreviousRun.load(state) else { throw noTopics(directory) }
        return (state, previous)
    }

    /// The committed fitted model of an open state (search and `assign --text` project with it).
    static func model(_ state: StateDatabase, directory: String) throws -> FittedModel {
        guard let data = try state.current(PreviousRun.modelKey) else { throw noTopics(directory) }
        return try JSONDecoder().decode(FittedModel.self, from: data)
    }
}
