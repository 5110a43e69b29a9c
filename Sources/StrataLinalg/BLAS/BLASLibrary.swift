import CBLAS
import Foundation

/// The BLAS/LAPACK library that serves every numeric call of this process, chosen once at first use.
///
/// Debian's OpenBLAS (linked at build time) always works. When a newer OpenBLAS is installed — the
/// `scipy-openblas32` wheel's `libscipy_openblas.so`, put into Strata's cache by
/// `scripts/fetch-openblas.sh` — it is loaded with `dlopen`, its entry points are resolved (`scipy_`
/// prefix or none), and a small numeric self-check (GEMM, SYRK, GEMV and both eigensolvers against
/// double-precision references) must pass before it is used. Any failure falls back to the system
/// library with one warning on standard error naming the library and the reason.
///
/// Selection (``resolve(environment:)``):
/// - `STRATA_BLAS=system`: the linked system OpenBLAS.
/// - `STRATA_BLAS=/path/to/lib.so`: that library (a failure to load or verify it is warned about).
/// - unset: `$STRATA_HOME/openblas/<version>/libscipy_openblas.so` when it exists (``CacheHome``),
///   otherwise the system library, silently.
///
/// The environment's `OPENBLAS_*` variables reach either library unchanged.
public struct BLASLibrary: Sendable, CustomStringConvertible {
    /// Which library: `"system"` or `"scipy-openblas"` (or `"custom"` for another path).
    public let name: String
    /// File the entry points come from.
    public let path: String
    /// OpenBLAS's own build description (`openblas_get_config`), e.g. "OpenBLAS 0.3.34 DYNAMIC_ARCH …".
    public let config: String
    /// Why a configured library was not used (nil when the choice went as configured).
    public let fallbackReason: String?
    let entries: BLASEntryPoints

    /// The kernel the library picked for this CPU (honours `OPENBLAS_CORETYPE`), e.g. "SkylakeX".
    public var coreName: String {
        guard let p = entries.corename() else { return "unknown" }
        return String(cString: p)
    }

    /// One line for `strata --version` and run records: library, build description, kernel.
    public var description: String { "\(name) (\(config.trimmingCharacters(in: .whitespaces))), kernel \(coreName), \(path)" }

    /// The library in use. Resolved on first access from the process environment; the warning for a
    /// fallback is printed to standard error then, once.
    public static let active: BLASLibrary = {
        let library = resolve(environment: ProcessInfo.processInfo.environment)
        if let reason = library.fallbackReason {
            FileHandle.standardError.write(Data("strata: warning: \(reason); using the system OpenBLAS instead\n".utf8))
        }
        return library
    }()

    /// The pinned scipy-openblas32 release that `scripts/fetch-openblas.sh` installs.
    public static let pinnedWheelVersion = "0.3.34.481.3"

    /// Where `scripts/fetch-openblas.sh` puts the library: `<cache home>/openblas/<version>/libscipy_openblas.so`.
    public static func cachedWheelLibrary(environment: [String: String]) -> URL {
        CacheHome.directory(environment: environment)
            .appendingPathComponent("openblas/\(pinnedWheelVersion)/libscipy_openblas.so")
    }

    /// Decides which library to use without touching process state (tests call it with their own
    /// environments). Never fails: every problem becomes a fallback to the system library with a reason.
    public static func resolve(environment: [String: String]) -> BLASLibrary {
        let setting = environment["STRATA_BLAS"].flatMap { $0.isEmpty ? nil : $0 }
        if setting == "system" { return system(reason: nil) }
        let path: String
        if let setting {
            path = setting
        } else {
            let cached = cachedWheelLibrary(environment: environment).path
            guard FileManager.default.fileExists(atPath: cached) else { return system(reason: nil) }
            path = cached
        }
        do {
            let entries = try BLASEntryPoints.load(path: path)
            try BLASSelfCheck.run(entries)
            let name = path.hasSuffix("libscipy_openblas.so") ? "scipy-openblas" : "custom"
            return BLASLibrary(name: name, path: path, config: config(entries), fallbackReason: nil, entries: entries)
        } catch {
            return system(reason: "BLAS library \(path) (from \(setting == nil ? "the Strata cache" : "STRATA_BLAS")) is unusable: \(error)")
        }
    }

    static func system(reason: String?) -> BLASLibrary {
        let entries = BLASEntryPoints.system
        let address = dlsym(dlopen(nil, RTLD_NOW), "cblas_sgemm").map { UInt(bitPattern: $0) }
        let path = address.flatMap(mappedFile(containing:)) ?? "libopenblas (linked)"
        return BLASLibrary(name: "system", path: path, config: config(entries), fallbackReason: reason, entries: entries)
    }

    /// The file mapped at `address` in this process (from `/proc/self/maps`; nil elsewhere).
    static func mappedFile(containing address: UInt) -> String? {
        // /proc files report size 0, so read to the end rather than by size.
        guard let data = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile(),
              let maps = String(data: data, encoding: .utf8) else { return nil }
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[5].hasPrefix("/") else { continue }
            let bounds = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            if bounds.count == 2, address >= bounds[0], address < bounds[1] { return String(fields[5]) }
        }
        return nil
    }

    static func config(_ entries: BLASEntryPoints) -> String {
        guard let p = entries.config() else { return "unknown build" }
        return String(cString: p)
    }
}

/// Strata's cache directory: `$STRATA_HOME`, or `~/.cache/strata` when it is unset or empty. The model
/// (`models/`), the local LLM server and the optional OpenBLAS (`openblas/`) live under it.
public enum CacheHome {
    public static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let home = environment["STRATA_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home, isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/strata", isDirectory: true)
    }
}

/// The C entry points Strata calls, all from one library.
struct BLASEntryPoints: @unchecked Sendable {
    typealias Sgemm = @convention(c) (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, Int32, Int32, Int32, Float,
                                      UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float,
                                      UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias Dgemm = @convention(c) (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, Int32, Int32, Int32, Double,
                                      UnsafePointer<Double>?, Int32, UnsafePointer<Double>?, Int32, Double,
                                      UnsafeMutablePointer<Double>?, Int32) -> Void
    typealias Ssyrk = @convention(c) (CBLAS_ORDER, CBLAS_UPLO, CBLAS_TRANSPOSE, Int32, Int32, Float,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias Sgemv = @convention(c) (CBLAS_ORDER, CBLAS_TRANSPOSE, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias Dsyevd = @convention(c) (Int32, CChar, CChar, Int32, UnsafeMutablePointer<Double>?, Int32,
                                       UnsafeMutablePointer<Double>?) -> Int32
    typealias Dsygvd = @convention(c) (Int32, Int32, CChar, CChar, Int32, UnsafeMutablePointer<Double>?, Int32,
                                       UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Double>?) -> Int32
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias GetThreads = @convention(c) () -> Int32
    typealias Describe = @convention(c) () -> UnsafeMutablePointer<CChar>?

    let sgemm: Sgemm, dgemm: Dgemm, ssyrk: Ssyrk, sgemv: Sgemv
    let dsyevd: Dsyevd, dsygvd: Dsygvd
    let setThreads: SetThreads, getThreads: GetThreads, corename: Describe, config: Describe

    /// The library linked at build time (Debian's OpenBLAS and LAPACKE).
    static let system = BLASEntryPoints(
        sgemm: cblas_sgemm, dgemm: cblas_dgemm, ssyrk: cblas_ssyrk, sgemv: cblas_sgemv,
        dsyevd: LAPACKE_dsyevd, dsygvd: LAPACKE_dsygvd,
        setThreads: openblas_set_num_threads, getThreads: openblas_get_num_threads,
        corename: openblas_get_corename, config: openblas_get_config)

    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    /// Opens `path` (kept open for the life of the process, symbols local to it) and resolves every
    /// entry point, with the `scipy_` prefix of the scipy-openblas wheels or without one.
    static func load(path: String) throws -> BLASEntryPoints {
        guard FileManager.default.fileExists(atPath: path) else { throw LoadError(description: "no such file") }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw LoadError(description: "dlopen failed: \(dlerror().map { String(cString: $0) } ?? "unknown error")")
        }
        let prefix = dlsym(handle, "scipy_cblas_sgemm") != nil ? "scipy_" : ""
        func symbol<T>(_ name: String, _ type: T.Type) throws -> T {
            guard let p = dlsym(handle, prefix + name) else {
                throw LoadError(description: "it has no symbol \(prefix + name) (not an OpenBLAS with CBLAS and LAPACKE)")
            }
            return unsafeBitCast(p, to: type)
        }
        return BLASEntryPoints(
            sgemm: try symbol("cblas_sgemm", Sgemm.self), dgemm: try symbol("cblas_dgemm", Dgemm.self),
            ssyrk: try symbol("cblas_ssyrk", Ssyrk.self), sgemv: try symbol("cblas_sgemv", Sgemv.self),
            dsyevd: try symbol("LAPACKE_dsyevd", Dsyevd.self), dsygvd: try symbol("LAPACKE_dsygvd", Dsygvd.self),
            setThreads: try symbol("openblas_set_num_threads", SetThreads.self),
            getThreads: try symbol("openblas_get_num_threads", GetThreads.self),
            corename: try symbol("openblas_get_corename", Describe.self),
            config: try symbol("openblas_get_config", Describe.self))
    }
}
