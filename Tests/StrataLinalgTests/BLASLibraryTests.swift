import CBLAS
import Foundation
import Testing
@testable import StrataLinalg

/// The runtime BLAS choice (``BLASLibrary/resolve(environment:)``) with environments of the tests' own.
@Suite("runtime BLAS library: choice, self-check and fallback")
struct BLASLibraryTests {
    static func emptyHome() -> String {
        let p = FileManager.default.temporaryDirectory.appendingPathComponent("strata-blas-\(UUID().uuidString.prefix(8))").path
        try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    /// The pinned library where scripts/fetch-openblas.sh puts it for this user (nil when not installed).
    static let installedWheel: String? = {
        let path = BLASLibrary.cachedWheelLibrary(environment: ProcessInfo.processInfo.environment).path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }()

    @Test("no library in the cache: the system OpenBLAS, silently")
    func noWheel() {
        let lib = BLASLibrary.resolve(environment: ["STRATA_HOME": Self.emptyHome()])
        #expect(lib.name == "system")
        #expect(lib.fallbackReason == nil)
        #expect(lib.config.contains("OpenBLAS"))
        #expect(lib.coreName != "unknown")
    }

    @Test("STRATA_BLAS=system wins over an installed library")
    func forcedSystem() {
        let lib = BLASLibrary.resolve(environment: ["STRATA_BLAS": "system"])
        #expect(lib.name == "system" && lib.fallbackReason == nil)
    }

    @Test("a broken STRATA_BLAS path falls back with a reason that names the path",
          arguments: ["missing", "garbage", "not-blas"])
    func brokenPath(_ kind: String) throws {
        let path: String
        switch kind {
        case "missing": path = Self.emptyHome() + "/libnothing.so"
        case "garbage":
            path = Self.emptyHome() + "/libgarbage.so"
            try Data("not a shared object".utf8).write(to: URL(fileURLWithPath: path))
        default: path = "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0"   // a real library without BLAS symbols
        }
        let lib = BLASLibrary.resolve(environment: ["STRATA_BLAS": path])
        #expect(lib.name == "system")
        let reason = try #require(lib.fallbackReason)
        #expect(reason.contains(path))
        let expected = ["missing": "no such file", "garbage": "dlopen failed", "not-blas": "no symbol cblas_sgemm"][kind]!
        #expect(reason.contains(expected), "\(reason)")
    }

    @Test("the self-check rejects entry points that compute the wrong thing")
    func selfCheckRejects() {
        var wrong = BLASEntryPoints.system
        wrong = BLASEntryPoints(sgemm: { _, _, _, _, _, _, _, _, _, _, _, _, _, _ in }, dgemm: wrong.dgemm, ssyrk: wrong.ssyrk,
                                sgemv: wrong.sgemv, dsyevd: wrong.dsyevd, dsygvd: wrong.dsygvd, setThreads: wrong.setThreads,
                                getThreads: wrong.getThreads, corename: wrong.corename, config: wrong.config)
        #expect(throws: BLASSelfCheck.Failure.self) { try BLASSelfCheck.run(wrong) }
        #expect(throws: Never.self) { try BLASSelfCheck.run(BLASEntryPoints.system) }
    }

    @Test("the pinned scipy-openblas32 loads, passes the self-check and agrees with the system library",
          .enabled(if: underCI || installedWheel != nil, "scipy-openblas32 not installed: run scripts/fetch-openblas.sh"))
    func wheel() throws {
        let path = try #require(Self.installedWheel, "scripts/test.sh installs it with scripts/fetch-openblas.sh")
        let lib = BLASLibrary.resolve(environment: ["STRATA_BLAS": path])
        #expect(lib.fallbackReason == nil, "\(lib.fallbackReason ?? "")")
        #expect(lib.name == "scipy-openblas")
        #expect(lib.config.contains("0.3.34"))
        // The same product through both libraries: equal to float rounding.
        let n = 96
        let a = (0..<(n * n)).map { Float(($0 * 7919) % 101) / 50 - 1 }
        func product(_ e: BLASEntryPoints) -> [Float] {
            var c = [Float](repeating: 0, count: n * n)
            e.sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), a, Int32(n), 0, &c, Int32(n))
            return c
        }
        let viaWheel = product(lib.entries), viaSystem = product(BLASEntryPoints.system)
        for i in 0..<(n * n) { #expect(abs(viaWheel[i] - viaSystem[i]) <= 1e-4 * max(1, abs(viaSystem[i]))) }
    }
}

private let underCI = ProcessInfo.processInfo.environment["CI"] == "true"
