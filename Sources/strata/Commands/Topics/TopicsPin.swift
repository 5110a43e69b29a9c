import ArgumentParser
import Foundation
import Strata
import StrataLabel

struct TopicsPin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pin", abstract: "Keep a topic's current label through relabels and refits.")
    @Argument(help: "Topic id.") var id: Int
    @OptionGroup var stateOption: StateOption
    func run() async throws { try await recordEdit(.pin(topic: id), state: stateOption) }
}
