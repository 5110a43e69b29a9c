import ArgumentParser
import Foundation
import Strata

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page: document map, topic sizes, hierarchy, topics, quality, drift.")

    @OptionGroup var stateOption: StateOption

    @Option(help: "Output file.")
    var out = "report.html"

    func run() async throws {
        try await reportingErrors {
            let s = try Report.write(stateDirectory: stateOption.state, to: out)
            FileHandle.standardError.write(Data("report → \(out) (\(s.topics) topics, \(s.points) points on the map, \(s.bytes / 1024) KiB)\n".utf8))
        }
    }
}
