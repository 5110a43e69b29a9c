import ArgumentParser
import Foundation
import Strata
import StrataLabel
import StrataLinalg
import StrataStore

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "One file with every document's id, topic columns and vector: Parquet (pandas, Polars, DuckDB, LanceDB read it as-is) or JSON Lines.",
        discussion: "Needs a run first. Rows in source order; documents added since the last run read topic -1 (\"no topic\"); no nulls.")

    @OptionGroup var source: SourceOptions
    @OptionGroup var log: LogOptions

    @Option(help: "Output file.")
    var out: String

    @Option(help: "parquet or jsonl (default: from the --out extension, else parquet).")
    var format: String?

    @Flag(help: "Include each document's text.")
    var withText = false

    func run() async throws {
        try await reportingErrors {
            let options = try RunOptions(source)
            let name = format ?? (out.hasSuffix(".jsonl") ? "jsonl" : "parquet")
            guard let f = Export.Format(rawValue: name) else { throw StrataError(.usage, "--format must be parquet or jsonl, got \(name)") }
            let table = try await Export.table(options, withText: withText, reporter: log.reporter)
            try Export.write(table, format: f, to: out)
            log.reporter.info("\(table.ids.count) rows × \(table.dimension)-dimensional vectors → \(out) (\(f.rawValue))")
        }
    }
}
