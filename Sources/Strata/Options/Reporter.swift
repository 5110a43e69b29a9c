import Foundation

/// Receives progress from long-running work.
public protocol RunReporter: Sendable {
    func stage(_ name: String)
    func progress(_ stage: String, done: Int, total: Int)
    func info(_ message: String)
    func warning(_ message: String)
}

/// Progress on standard error: a redrawn bar on a terminal, periodic lines otherwise, or one JSON
/// object per event (`--json-log`). Quiet mode prints warnings only (`--quiet --json-log`: warnings
/// and the summary as JSON). Every JSON log ends with one `summary` event.
public final class ConsoleReporter: RunReporter, @unchecked Sendable {
    public enum Mode: Sendable { case human, json, quiet, quietJSON }
    let mode: Mode
    let isTTY: Bool
    let lock = NSLock()
    var lastLine = Date.distantPast
    var lastPercent = -1
    var barActive = false
    /// Where the current stage's rate is measured from: its name, when and at what count it began.
    var rateStage = "", rateStart = Date(), rateFrom = 0, rateLast = 0

    public init(mode: Mode) {
        self.mode = mode
        isTTY = isatty(2) != 0
    }

    func emit(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    func json(_ fields: [String: Any]) {
        var f = fields
        f["time"] = ISO8601DateFormatter().string(from: Date())
        if let d = try? JSONSerialization.data(withJSONObject: f, options: [.sortedKeys]) { emit(String(decoding: d, as: UTF8.self)) }
    }

    func endBar() { if barActive { FileHandle.standardError.write(Data("\n".utf8)); barActive = false } }

    /// One event: nothing when quiet, a JSON object, or a human line (ending a progress bar first).
    private func announce(_ fields: [String: Any], human: String, resetProgress: Bool = false) {
        lock.withLock {
            switch mode {
            case .quiet, .quietJSON: return
            case .json: json(fields)
            case .human: endBar(); emit(human)
            }
            if resetProgress { lastPercent = -1 }
        }
    }

    public func stage(_ name: String) { announce(["event": "stage", "stage": name], human: "▸ \(name)", resetProgress: true) }

    public func progress(_ stage: String, done: Int, total: Int) {
        lock.withLock {
            guard total > 0 else { return }
            let percent = done * 100 / total
            // Workers report concurrently: a count that arrives after a larger one is stale.
            guard percent >= lastPercent || done == total else { return }
            let (rate, eta) = pace(stage, done: done, total: total)
            switch mode {
            case .quiet, .quietJSON: return
            case .json:
                if percent / 10 != lastPercent / 10 || done == total {
                    var f: [String: Any] = ["event": "progress", "stage": stage, "done": done, "total": total]
                    if let rate { f["rate_per_s"] = (rate * 10).rounded() / 10; f["eta_s"] = Int(eta!.rounded()) }
                    json(f)
                    lastPercent = percent
                }
            case .human:
                if isTTY {
                    guard percent != lastPercent || done == total else { return }
                    lastPercent = percent
                    let width = 30, filled = width * done / total
                    let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
                    FileHandle.standardError.write(Data("\r  \(bar) \(done)/\(total)\(Self.paceText(rate, eta))".utf8))
                    barActive = true
                    if done == total { endBar() }
                } else if Date().timeIntervalSince(lastLine) >= 5 || done == total {
                    lastLine = Date()
                    emit("  \(stage): \(done)/\(total) (\(percent)%)\(Self.paceText(rate, eta))")
                }
            }
        }
    }

    /// Items a second since the stage's first report and the seconds left at that rate (nil for the
    /// first second, or when nothing moved). A new stage name, or a count that went back, restarts it.
    func pace(_ stage: String, done: Int, total: Int) -> (rate: Double?, eta: Double?) {
        if stage != rateStage || done < rateLast { rateStage = stage; rateStart = Date(); rateFrom = done }
        rateLast = done
        let elapsed = Date().timeIntervalSince(rateStart)
        guard elapsed >= 1, done > rateFrom else { return (nil, nil) }
        let rate = Double(done - rateFrom) / elapsed
        return (rate, Double(total - done) / rate)
    }

    /// ", 6,420/s, 59 s left" (empty without a rate).
    static func paceText(_ rate: Double?, _ eta: Double?) -> String {
        guard let rate, let eta else { return "" }
        let left = eta >= 90 ? "\(Int((eta / 60).rounded())) min left" : "\(Int(eta.rounded())) s left"
        return ", \(rate >= 100 ? String(Int(rate.rounded())) : String(format: "%.1f", rate))/s, \(left)"
    }

    public func info(_ message: String) { announce(["event": "info", "message": message], human: "  \(message)") }

    public func warning(_ message: String) {
        lock.withLock {
            switch mode {
            case .json, .quietJSON: json(["event": "warning", "message": message])
            case .human, .quiet: endBar(); emit("warning: \(message)")
            }
        }
    }

    /// The last event of a JSON log (nothing in the human modes): `exit_code`, `seconds` and what
    /// the command adds (counts, warnings, or the error).
    public func summary(exitCode: Int32, seconds: Double, _ fields: [String: Any] = [:]) {
        lock.withLock {
            guard mode == .json || mode == .quietJSON else { return }
            var f = fields
            f["event"] = "summary"; f["exit_code"] = Int(exitCode); f["seconds"] = (seconds * 1000).rounded() / 1000
            json(f)
        }
    }
}

/// Discards everything (library use and tests).
public struct SilentReporter: RunReporter {
    public init() {}
    public func stage(_ name: String) {}
    public func progress(_ stage: String, done: Int, total: Int) {}
    public func info(_ message: String) {}
    public func warning(_ message: String) {}
}
