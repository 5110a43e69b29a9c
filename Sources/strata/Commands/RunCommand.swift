import ArgumentParser
import Foundation
import Strata
import StrataLabel

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Fit topics over SOURCE and write the topic columns back.")

    @OptionGroup var source: SourceOptions
    @OptionGroup var log: LogOptions
    @OptionGroup var arguments: RunArguments

    func run() async throws {
        try await arguments.run(log: log) { try arguments.options(source) }
    }
}
