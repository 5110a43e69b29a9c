import ArgumentParser
import Foundation
import Strata
import StrataLabel

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Show the current topics (a table, --json or --tree), or curate them: rename, pin, unpin, merge.",
        discussion: "Edits are kept in the state and applied by every later run, incremental or refit (label_source: user).",
        subcommands: [TopicsShow.self, TopicsRename.self, TopicsPin.self, TopicsUnpin.self, TopicsMerge.self],
        defaultSubcommand: TopicsShow.self)
}

/// Records one curation edit and prints what was recorded.
func recordEdit(_ edit: CurationEdit, state: StateOption) async throws {
    try await reportingErrors { print(try edit.record(stateDirectory: state.state)) }
}
