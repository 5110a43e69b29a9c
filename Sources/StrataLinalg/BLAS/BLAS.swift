import CBLAS
import Foundation

/// Thin, typed wrappers over OpenBLAS (CBLAS, LP64) and LAPACKE.
///
/// Every call goes to ``BLASLibrary/active``: Debian's linked OpenBLAS, or a newer one loaded at run
/// time (see ``BLASLibrary``).
///
/// The public numeric API of Strata takes `Int`; ``BLAS/int32(_:)`` is the single checked place
/// where sizes are narrowed to the 32-bit integers of the LP64 interface. All matrices are
/// row-major and contiguous.
public enum BLAS {
    /// Whether an operand is used as stored or transposed.
    public enum Transpose: Sendable {
        case none, transpose
        var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
    }

    /// Narrows a size or stride to the BLAS/LAPACK integer type. The one checked narrowing in Strata.
    ///
    /// - Precondition: `0 <= value <= Int32.max`. ``Matrix`` validates its shape on construction, so
    ///   a trap here means a caller bypassed that validation.
    @inlinable
    public static func int32(_ value: Int) -> Int32 {
        precondition(value >= 0 && value <= Int(Int32.max),
                     "BLAS size \(value) does not fit the 32-bit LP64 interface")
        return Int32(truncatingIfNeeded: value)
    }

    /// Number of threads OpenBLAS uses for one call.
    public static var threadCount: Int { Int(lib.getThreads()) }

    /// The entry points of the library in use.
    @inline(__always) static var lib: BLASEntryPoints { BLASLibrary.active.entries }

    /// Name of the OpenBLAS kernel in use (e.g. "Haswell", "SkylakeX").
    public static var coreName: String { BLASLibrary.active.coreName }

    /// Sets OpenBLAS's process-wide thread count for subsequent calls (at least 1). Prefer
    /// ``withThreads(_:_:)``, which restores the previous count.
    public static func setThreadCount(_ count: Int) {
        threadLock.withLock { lib.setThreads(int32(max(1, count))) }
    }

    /// Serialises changes of OpenBLAS's global thread count; recursive, so a `withThreads` nested in
    /// another on the same thread (a tiled loop inside a tiled scan) does not deadlock.
    private static let threadLock = NSRecursiveLock()

    /// Runs `body` with OpenBLAS limited to `count` threads per call, then restores the previous count.
    ///
    /// Strata parallelises over row tiles itself and runs OpenBLAS single-threaded inside the tiles
    /// (never both). The thread count is process-global in OpenBLAS, so concurrent callers that need
    /// different counts are serialised.
    public static func withThreads<R>(_ count: Int, _ body: () throws -> R) rethrows -> R {
        threadLock.lock()
        defer { threadLock.unlock() }
        let previous = lib.getThreads()
        lib.setThreads(int32(max(1, count)))
        defer { lib.setThreads(previous) }
        return try body()
    }

    /// ``withThreads(_:_:)`` when `count` is set; otherwise runs `body` under whatever count the caller
    /// chose, without taking the lock (so it may run inside another thread's `withThreads`).
    static func withThreads<R>(ifSet count: Int?, _ body: () throws -> R) rethrows -> R {
        guard let count else { return try body() }
        return try withThreads(count, body)
    }

    /// C ← alpha·op(A)·op(B) + beta·C, row-major, in `Float` (sgemm) or `Double` (dgemm).
    /// 2·m·n·k flops; `lda`, `ldb`, `ldc` are row strides in elements.
    public static func gemm<T: GEMMScalar>(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
                                           alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                                           beta: T, c: UnsafeMutablePointer<T>, ldc: Int) {
        T.cblasGEMM(CblasRowMajor, transA.cblas, transB.cblas, int32(m), int32(n), int32(k),
                    alpha, a, int32(lda), b, int32(ldb), beta, c, int32(ldc))
    }

    /// Upper triangle of C (n×n) ← alpha·A·Aᵀ + beta·C for a row-major A of n rows × k columns.
    /// n²·k flops (half of the equivalent GEMM).
    public static func ssyrk(n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        lib.ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, int32(n), int32(k), alpha, a, int32(lda),
                    beta, c, int32(ldc))
    }

    /// Upper triangle of C (n×n) ← alpha·Aᵀ·A + beta·C for a row-major A of k rows × n columns.
    /// n²·k flops (half of the equivalent GEMM).
    public static func ssyrkTransposed(n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                       beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        lib.ssyrk(CblasRowMajor, CblasUpper, CblasTrans, int32(n), int32(k), alpha, a, int32(lda),
                    beta, c, int32(ldc))
    }

    /// y ← alpha·op(A)·x + beta·y, single precision, row-major A (m×n). 2·m·n flops.
    public static func sgemv(_ trans: Transpose, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>,
                             lda: Int, x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>) {
        lib.sgemv(CblasRowMajor, trans.cblas, int32(m), int32(n), alpha, a, int32(lda), x, 1, beta, y, 1)
    }

    /// OpenBLAS threads for the eigensolvers: 1. Strata's matrices are a few hundred wide, where threads
    /// gain nothing, and a multi-threaded call wakes OpenBLAS's pool, whose idle thread then spins
    /// against the next tiled stage (12.5% of samples in a PCA benchmark).
    static let eigenThreads = 1

    /// Eigen-decomposition of a symmetric n×n row-major matrix (upper triangle read) with LAPACK
    /// `dsyevd` (divide and conquer). On return `a` holds the eigenvectors as columns; eigenvalues are
    /// ascending. O(n³). Single-threaded (see ``eigenThreads``).
    public static func dsyevd(n: Int, a: inout [Double]) throws -> [Double] {
        precondition(a.count == n * n)
        var w = [Double](repeating: 0, count: n)
        let info = withThreads(eigenThreads) { a.withUnsafeMutableBufferPointer { ap in
            w.withUnsafeMutableBufferPointer { wp in
                lib.dsyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")),
                               int32(n), ap.baseAddress, int32(n), wp.baseAddress)
            }
        } }
        if info != 0 { throw LinalgError.lapackFailure(routine: "dsyevd", info: Int(info)) }
        return w
    }

    /// Generalized symmetric-definite eigenproblem A·v = λ·B·v (n×n row-major, upper triangles read, B
    /// positive definite) with LAPACK `dsygvd`. On return `a` holds the B-orthonormal eigenvectors as
    /// columns; eigenvalues ascending. O(n³). Throws when B is not positive definite. Single-threaded
    /// (see ``eigenThreads``).
    public static func dsygvd(n: Int, a: inout [Double], b: inout [Double]) throws -> [Double] {
        precondition(a.count == n * n && b.count == n * n)
        var w = [Double](repeating: 0, count: n)
        let info = withThreads(eigenThreads) { a.withUnsafeMutableBufferPointer { ap in
            b.withUnsafeMutableBufferPointer { bp in
                w.withUnsafeMutableBufferPointer { wp in
                    lib.dsygvd(LAPACK_ROW_MAJOR, 1, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")),
                                   int32(n), ap.baseAddress, int32(n), bp.baseAddress, int32(n), wp.baseAddress)
                }
            }
        } }
        if info != 0 { throw LinalgError.lapackFailure(routine: "dsygvd", info: Int(info)) }
        return w
    }

    /// Measures single-precision GEMM throughput on `size`×`size` matrices with the current thread
    /// count; returns the median GFLOP/s over `repeats` calls. Used by benchmarks to quote a peak.
    public static func measureSgemmPeak(size: Int = 2048, repeats: Int = 5) -> Double {
        let a = [Float](repeating: 0.5, count: size * size)
        let b = [Float](repeating: 0.25, count: size * size)
        var c = [Float](repeating: 0, count: size * size)
        var rates: [Double] = []
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    for _ in 0..<(repeats + 1) {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        gemm(.none, .none, m: size, n: size, k: size, alpha: Float(1), a: ap.baseAddress!,
                              lda: size, b: bp.baseAddress!, ldb: size, beta: 0, c: cp.baseAddress!, ldc: size)
                        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                        rates.append(2.0 * Double(size) * Double(size) * Double(size) / dt / 1e9)
                    }
                }
            }
        }
        rates.removeFirst()  // warm-up
        return rates.sorted()[rates.count / 2]
    }
}

/// The row-major CBLAS GEMM signature for element type `T`.
public typealias CBLASGEMM<T> = (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, Int32, Int32, Int32, T,
                                 UnsafePointer<T>?, Int32, UnsafePointer<T>?, Int32, T,
                                 UnsafeMutablePointer<T>?, Int32) -> Void

/// A precision BLAS multiplies matrices in: `Float` (sgemm) and `Double` (dgemm). Use ``BLAS/gemm(_:_:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``.
public protocol GEMMScalar: BinaryFloatingPoint {
    /// This precision's GEMM in the library in use (``BLASLibrary/active``).
    static var cblasGEMM: CBLASGEMM<Self> { get }
}

extension Float: GEMMScalar { public static var cblasGEMM: CBLASGEMM<Float> { BLAS.lib.sgemm } }
extension Double: GEMMScalar { public static var cblasGEMM: CBLASGEMM<Double> { BLAS.lib.dgemm } }
