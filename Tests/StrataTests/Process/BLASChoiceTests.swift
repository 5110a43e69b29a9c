import Foundation
import Testing

/// `strata` with and without the runtime OpenBLAS, and with a broken one: the end-to-end side of
/// BLASLibraryTests.
@Suite("runtime BLAS end to end: no library installed, a broken one, and --version", .needsReleaseBinary)
struct BLASChoiceTests {
    /// A STRATA_HOME that has the model (linked from the real cache) but no OpenBLAS.
    static func homeWithoutWheel() throws -> String {
        let home = makeTempDir()
        let real = ProcessInfo.processInfo.environment["STRATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/strata").path
        try FileManager.default.createSymbolicLink(atPath: home + "/models", withDestinationPath: real + "/models")
        return home
    }

    func run(_ bin: String, env: [String: String]) throws -> (result: ProcessResult, topics: [String: Any], rows: [[String: Any]]) {
        let dir = makeTempDir()
        let input = dir + "/docs.jsonl"
        try writeSample("fortunes-3000.jsonl", count: 600, to: input)
        let r = try runProcess(bin, ["run", input, "--k", "8", "--quiet"], environment: env)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json"))
        let topics = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (r, topics, try jsonLines(dir + "/docs.topics.jsonl"))
    }

    @Test("without the library everything works on the system OpenBLAS, silently; a broken STRATA_BLAS path warns, names it, and gives the same topics")
    func fallback() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let home = try Self.homeWithoutWheel()
        let plain = try run(bin, env: ["STRATA_HOME": home, "STRATA_BLAS": ""])
        #expect(!plain.result.stderr.contains("warning"), "\(plain.result.stderr)")
        let blas = (plain.topics["run"] as? [String: Any])?["blas"] as? String ?? ""
        #expect(blas.hasPrefix("system"), "run.blas = \(blas)")

        let broken = makeTempDir() + "/libopenblas-broken.so"
        try Data(repeating: 0x7f, count: 64).write(to: URL(fileURLWithPath: broken))
        let fallen = try run(bin, env: ["STRATA_HOME": home, "STRATA_BLAS": broken])
        #expect(fallen.result.stderr.contains("warning: BLAS library \(broken)"), "\(fallen.result.stderr)")
        #expect(fallen.result.stderr.contains("using the system OpenBLAS"))
        // Both ran on the same (system) library: the topic columns agree row for row.
        #expect(plain.rows.map { $0["topic_id"] as? Int } == fallen.rows.map { $0["topic_id"] as? Int })
        #expect(plain.rows.map { $0["topic_label"] as? String } == fallen.rows.map { $0["topic_label"] as? String })
    }

    @Test("strata --version names the library, its build and the kernel")
    func version() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let system = try runProcess(bin, ["--version"], environment: ["STRATA_BLAS": "system"])
        #expect(system.status == 0)
        #expect(system.stdout.contains("BLAS: system (OpenBLAS 0.3."), "\(system.stdout)")
        #expect(system.stdout.contains("kernel "))
        let installed = FileManager.default.fileExists(atPath: (ProcessInfo.processInfo.environment["STRATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/strata").path) + "/openblas/0.3.34.481.3/libscipy_openblas.so")
        if installed || underCI {
            let current = try runProcess(bin, ["--version"], environment: ["STRATA_BLAS": ""])
            #expect(current.stdout.contains("BLAS: scipy-openblas (OpenBLAS 0.3.34"), "\(current.stdout)")
        }
    }
}
