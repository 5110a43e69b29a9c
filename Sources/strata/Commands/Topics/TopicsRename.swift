import ArgumentParser
import Foundation
import Strata
import StrataLabel

struct TopicsRename: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Give a topic your own label (kept through reruns and refits).")
    @Argument(help: "Topic id.") var id: Int
    @Argument(help: "The new label.") var label: String
    @Option(help: "A description to show with it (default: keep the current one).") var description: String?
    @OptionGroup var stateOption: StateOption
    func run() async throws { try await recordEdit(.rename(topic: id, label: label, description: description), state: stateOption) }
}
