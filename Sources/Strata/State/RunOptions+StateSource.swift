import Foundation
import StrataStore

/// The source a state belongs to — the one place that decides it: the default state directory of a
/// source, the source recorded in a state, SOURCE resolved against `--state`, and the check that a
/// run never replaces another source's topics.
extension RunOptions {
    /// `.strata/` in the folder that holds the source (the current folder for database URLs) — unless
    /// a run of another source already owns that state: then `.strata/<source name>/`, so two tables of
    /// one database or two files of one folder never share (and refit) one model.
    public static func defaultStateDirectory(for source: SourceLocation) -> String {
        let base = sharedStateDirectory(for: source)
        guard let owner = owner(of: base), owner != source.identity else { return base }
        let safe = source.identity.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" ? $0 : "_" }
        return (base as NSString).appendingPathComponent(String(safe))
    }

    /// `.strata/` next to the source, whoever owns it.
    static func sharedStateDirectory(for source: SourceLocation) -> String {
        switch source {
        case .jsonl(let p), .csv(let p):
            return URL(fileURLWithPath: p).deletingLastPathComponent().appendingPathComponent(".strata").path
        case .directory(let p):
            return URL(fileURLWithPath: p).standardizedFileURL.deletingLastPathComponent().appendingPathComponent(".strata").path
        case .sqlite(let p, _):
            return URL(fileURLWithPath: p).deletingLastPathComponent().appendingPathComponent(".strata").path
        case .postgres:
            return FileManager.default.currentDirectoryPath + "/.strata"
        }
    }

    /// Identity of the source whose runs fill the state in `directory` (nil: no run yet, or unreadable).
    public static func owner(of directory: String) -> String? {
        recordedSource(of: directory).map(SourceLocation.identity(of:))
    }

    /// `run.source` of the last run committed to the state in `directory`, as recorded (nil: no run yet,
    /// or unreadable).
    public static func recordedSource(of directory: String) -> String? {
        let path = (directory as NSString).appendingPathComponent("state.db")
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try? StateDatabase(directory: directory).lastRunSource()
    }

    /// The source a command reads, from its SOURCE argument and `--state` — the one place that decides
    /// which source a state belongs to. Without SOURCE, the state's own source (a relative path that
    /// no longer resolves from here is looked for beside the state folder). With both, SOURCE must be
    /// the state's source (same ``SourceLocation/identity``), else a usage error: another source would
    /// read or replace topics that are not its own.
    /// - Throws: ``StrataError`` `.usage` naming the option and what to pass; ``SourceError`` for a SOURCE
    ///   that does not parse.
    /// `checkOwner: false` skips the ownership check (a command that uses the state only as a cache).
    public static func resolveSource(_ argument: String?, state: String?, checkOwner: Bool = true) throws -> SourceLocation {
        guard let argument else { return try stateSource(state) }
        let location = try SourceLocation.parse(argument)
        if checkOwner, let state, let recorded = recordedSource(of: state), SourceLocation.identity(of: recorded) != location.identity {
            throw StrataError(.usage, "the state in \(state) belongs to \(recorded), not to \(location): leave SOURCE out to use "
                              + "the state's own source, or pass the --state DIR of this source's runs (by default it gets "
                              + "\(defaultStateDirectory(for: location)))")
        }
        return location
    }

    /// The recorded source of the state in `state` (see ``resolveSource(_:state:)``).
    static func stateSource(_ state: String?) throws -> SourceLocation {
        let kinds = "a .jsonl, .csv, folder, sqlite:PATH?table=T or postgres://…?table=T"
        guard let state else {
            throw StrataError(.usage, "missing SOURCE: \(kinds) (or --state DIR of an earlier run, whose source is then used)")
        }
        guard let recorded = recordedSource(of: state) else {
            throw StrataError(.usage, "missing SOURCE: the state in \(state) has no committed run to take its source from; pass \(kinds)")
        }
        if recorded.hasPrefix("postgres"), recorded.contains(":***@") {
            throw StrataError(.usage, "the state in \(state) belongs to \(recorded), whose password is not recorded: pass that URL "
                              + "as SOURCE (or its password in PGPASSWORD and the URL without it)")
        }
        return try SourceLocation.parse(locate(recorded, besides: state))
    }

    /// A recorded file, folder or SQLite path as given, or beside the state folder when it does not
    /// resolve from the current folder (a run started elsewhere with a relative path).
    static func locate(_ recorded: String, besides state: String) -> String {
        let isSQLite = recorded.hasPrefix("sqlite:")
        guard !recorded.hasPrefix("postgres") else { return recorded }
        let path = isSQLite ? String(recorded.dropFirst(7).split(separator: "?", maxSplits: 1).first ?? "") : recorded
        let query = isSQLite ? String(recorded.dropFirst(7 + path.count)) : ""
        let fm = FileManager.default
        guard !fm.fileExists(atPath: path), !path.hasPrefix("/") else { return recorded }
        let parent = URL(fileURLWithPath: state).standardizedFileURL.deletingLastPathComponent()
        let beside = parent.appendingPathComponent((path as NSString).lastPathComponent).path
        guard fm.fileExists(atPath: beside) else { return recorded }
        return isSQLite ? "sqlite:" + beside + query : beside
    }

    /// A state belongs to the source its runs read: another source would replace its topics (and refit
    /// its model), so it is refused before anything is written.
    static func checkOwner(_ previous: PreviousRun, options: RunOptions) throws {
        let owner = SourceLocation.identity(of: previous.document.run.source)
        guard owner != options.source.identity else { return }
        throw StrataError(.usage, "the state in \(options.stateDirectory) belongs to \(previous.document.run.source) (\(owner)), not to "
                          + "\(options.source): pass --state DIR to give this source its own state (by default it gets "
                          + "\(RunOptions.defaultStateDirectory(for: options.source)))")
    }
}
