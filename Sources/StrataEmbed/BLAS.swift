import CBLAS

// Thin, checked wrappers over the few OpenBLAS calls the encoder makes. Swift code works in `Int`;
// `blasInt` is the only place that narrows to the 32-bit LP64 BLAS integer.
// (To be unified with StrataLinalg's equivalent helper.)

/// Narrows a dimension or leading dimension to BLAS's 32-bit integer, trapping when it does not fit.
@inline(__always)
func blasInt(_ x: Int) -> Int32 {
    precondition(x >= 0 && x <= Int(Int32.max), "BLAS dimension \(x) does not fit in a 32-bit BLAS integer")
    return Int32(truncatingIfNeeded: x)
}

/// Row-major `C[m×n] = alpha · op(A) · op(B) + beta · C`, where `op(A)` is m×k and `op(B)` is k×n.
/// `lda`, `ldb`, `ldc` are row strides in elements (≥ the stored row length). Costs 2·m·n·k flops.
@inline(__always)
func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                blasInt(m), blasInt(n), blasInt(k), alpha, a, blasInt(lda), b, blasInt(ldb),
                beta, c, blasInt(ldc))
}

/// OpenBLAS's thread count for subsequent calls (process-wide).
enum BLASThreads {
    static var current: Int { Int(openblas_get_num_threads()) }
    static func set(_ n: Int) { openblas_set_num_threads(blasInt(max(1, n))) }
}
