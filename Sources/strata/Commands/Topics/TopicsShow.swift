import ArgumentParser
import Foundation
import Strata
import StrataLabel

struct TopicsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the current topics.")

    @OptionGroup var stateOption: StateOption

    @Flag(help: "Print the topics document (topics.json as the last run committed it).")
    var json = false

    @Flag(help: "Print the hierarchy as a tree.")
    var tree = false

    @Flag(help: "Topic shares per period of the run's --time-field, and what grew most in the last one.")
    var overTime = false

    @Option(help: "Periods for --over-time: day, week or month (default: the one giving at most ~60 periods).")
    var by: String?

    func run() async throws {
        let committed: (document: TopicsDocument, data: Data)
        do { committed = try CommittedState.topics(stateOption.state) } catch { throw fail(error).code }
        if overTime {
            return try await reportingErrors {
                guard let timeline = committed.document.overTime else {
                    throw StrataError(.usage, "no dates in this state: run `strata run SOURCE --time-field FIELD` first")
                }
                let g = try by.map { b in
                    guard let g = Timeline.Granularity(rawValue: b) else { throw StrataError(.usage, "--by must be day, week or month, got \(b)") }
                    return g
                } ?? timeline.naturalGranularity
                print(TopicTable.overTime(committed.document, timeline, g))
            }
        }
        if json {
            FileHandle.standardOutput.write(committed.data)
            print()
            return
        }
        print(tree ? TopicTable.tree(committed.document) : TopicTable.render(committed.document))
    }
}
