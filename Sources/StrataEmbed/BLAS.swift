import StrataLinalg

// Call-site conveniences for the encoder over StrataLinalg's checked BLAS wrappers (which hold the one
// Int → Int32 narrowing of the project).

/// Row-major `C[m×n] = alpha · op(A) · op(B) + beta · C`, where `op(A)` is m×k and `op(B)` is k×n.
/// `lda`, `ldb`, `ldc` are row strides in elements (≥ the stored row length). Costs 2·m·n·k flops.
@inline(__always)
func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    BLAS.gemm(transA ? .transpose : .none, transB ? .transpose : .none, m: m, n: n, k: k, alpha: alpha,
               a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
}

/// OpenBLAS's thread count for subsequent calls (process-wide).
enum BLASThreads {
    static var current: Int { BLAS.threadCount }
    static func set(_ n: Int) { BLAS.setThreadCount(n) }
}
