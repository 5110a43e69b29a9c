import ArgumentParser
import Foundation
import Strata
import StrataLabel

struct TopicsMerge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge", abstract: "Merge topic MERGED into topic INTO (its documents join INTO).")
    @Argument(help: "Topic id that stays.") var into: Int
    @Argument(help: "Topic id whose documents move.") var merged: Int
    @OptionGroup var stateOption: StateOption
    func run() async throws { try await recordEdit(.merge(into: into, merged: merged), state: stateOption) }
}
