import ArgumentParser
import Foundation
import Strata
import StrataLabel

struct TopicsUnpin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unpin", abstract: "Drop a rename or pin: the labeler names the topic again.")
    @Argument(help: "Topic id.") var id: Int
    @OptionGroup var stateOption: StateOption
    func run() async throws { try await recordEdit(.unpin(topic: id), state: stateOption) }
}
