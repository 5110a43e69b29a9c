import CBLAS

/// The numeric self-check a runtime-loaded BLAS must pass before it serves any call: every entry point
/// Strata uses, on small deterministic inputs, against double-precision loops. Microseconds.
enum BLASSelfCheck {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func run(_ e: BLASEntryPoints) throws {
        guard e.getThreads() >= 1 else { throw Failure(description: "self-check: openblas_get_num_threads returned < 1") }
        try checkSgemm(e)
        try checkSyrkAndGemv(e)
        try checkEigen(e)
    }

    /// Deterministic values in [−1, 1).
    static func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { i in Float((i * 37 + seed * 11) % 23) / 11.5 - 1 }
    }

    static func expect(_ ok: Bool, _ what: String) throws {
        if !ok { throw Failure(description: "self-check: \(what) differs from the double-precision reference") }
    }

    /// C (m×n) = 1.5·A·Bᵀ − 0.5·C with A m×k, B n×k; also DGEMM on the same values.
    static func checkSgemm(_ e: BLASEntryPoints) throws {
        let m = 7, n = 6, k = 9
        let a = values(m * k, seed: 1), b = values(n * k, seed: 2), c0 = values(m * n, seed: 3)
        var c = c0
        e.sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1.5, a, Int32(k), b, Int32(k),
                -0.5, &c, Int32(n))
        var cd = c0.map(Double.init)
        e.dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1.5, a.map(Double.init), Int32(k),
                b.map(Double.init), Int32(k), -0.5, &cd, Int32(n))
        for i in 0..<m {
            for j in 0..<n {
                var dot = 0.0
                for l in 0..<k { dot += Double(a[i * k + l]) * Double(b[j * k + l]) }
                let ref = 1.5 * dot - 0.5 * Double(c0[i * n + j])
                try expect(abs(Double(c[i * n + j]) - ref) <= 1e-4 * (1 + abs(ref)), "sgemm")
                try expect(abs(cd[i * n + j] - ref) <= 1e-10 * (1 + abs(ref)), "dgemm")
            }
        }
    }

    /// Upper triangle of A·Aᵀ (SYRK) and y = Aᵀ·x (GEMV).
    static func checkSyrkAndGemv(_ e: BLASEntryPoints) throws {
        let n = 5, k = 8
        let a = values(n * k, seed: 4), x = values(n, seed: 5)
        var c = [Float](repeating: 0, count: n * n)
        e.ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(n), Int32(k), 1, a, Int32(k), 0, &c, Int32(n))
        for i in 0..<n {
            for j in i..<n {
                var dot = 0.0
                for l in 0..<k { dot += Double(a[i * k + l]) * Double(a[j * k + l]) }
                try expect(abs(Double(c[i * n + j]) - dot) <= 1e-4 * (1 + abs(dot)), "ssyrk")
            }
        }
        var y = [Float](repeating: 0, count: k)
        e.sgemv(CblasRowMajor, CblasTrans, Int32(n), Int32(k), 1, a, Int32(k), x, 1, 0, &y, 1)
        for j in 0..<k {
            var dot = 0.0
            for i in 0..<n { dot += Double(a[i * k + j]) * Double(x[i]) }
            try expect(abs(Double(y[j]) - dot) <= 1e-4 * (1 + abs(dot)), "sgemv")
        }
    }

    /// Residuals ‖A·v − λ·B·v‖ of `dsyevd` (B = I) and `dsygvd` (B = diag(1…n) + 0.1) on a 4×4 problem.
    static func checkEigen(_ e: BLASEntryPoints) throws {
        let n = 4
        let a: [Double] = [4, 1, 0.5, 0.2, 1, 3, 0.3, 0.1, 0.5, 0.3, 2, 0.4, 0.2, 0.1, 0.4, 1]
        var b = [Double](repeating: 0.1, count: n * n)
        for i in 0..<n { b[i * n + i] = Double(i + 1) + 0.1 }
        for generalized in [false, true] {
            var v = a, bb = b, w = [Double](repeating: 0, count: n)
            let info = generalized
                ? e.dsygvd(LAPACK_ROW_MAJOR, 1, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")), Int32(n), &v, Int32(n), &bb, Int32(n), &w)
                : e.dsyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")), Int32(n), &v, Int32(n), &w)
            let routine = generalized ? "dsygvd" : "dsyevd"
            guard info == 0 else { throw Failure(description: "self-check: \(routine) returned info \(info)") }
            for col in 0..<n {
                for row in 0..<n {
                    var av = 0.0, bv = 0.0
                    for l in 0..<n {
                        av += a[row * n + l] * v[l * n + col]
                        bv += (generalized ? b[row * n + l] : (row == l ? 1 : 0)) * v[l * n + col]
                    }
                    try expect(abs(av - w[col] * bv) <= 1e-9, routine)
                }
            }
        }
    }
}
