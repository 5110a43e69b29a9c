import Foundation
import Testing
@testable import StrataEmbed

@Suite("element kernels")
struct KernelTests {
    @Test("erf is within 4e-7 of the double-precision erf on [-8, 8], and GELU within 1.2e-6")
    func erfAccuracy() {
        var worst = 0.0, worstGELU = 0.0
        var x: Float = -8
        while x <= 8 {
            worst = max(worst, abs(Double(Kernels.erf(x)) - Foundation.erf(Double(x))))
            let gelu = 0.5 * x * (1 + Kernels.erf(x * 0.70710678))
            let exact = 0.5 * Double(x) * (1 + Foundation.erf(Double(x) / 2.0.squareRoot()))
            worstGELU = max(worstGELU, abs(Double(gelu) - exact))
            x += 1.0 / 4096
        }
        #expect(worst < 4e-7)
        #expect(worstGELU < 1.25e-6)
        #expect(Kernels.erf(0) == 0)
        #expect(Kernels.erf(100) <= 1 && Kernels.erf(-100) >= -1)
    }

    @Test("exp of non-positive inputs is within 3 ulps")
    func expAccuracy() {
        var worstUlps: Float = 0
        var x: Float = -87
        while x <= 0 {
            let exact = Float(Foundation.exp(Double(x)))
            worstUlps = max(worstUlps, abs(Kernels.expNonPositive(x) - exact) / exact.ulp)
            x += 1.0 / 1024
        }
        #expect(worstUlps <= 3)
        #expect(Kernels.expNonPositive(0) == 1)
        #expect(Kernels.expNonPositive(-.infinity) < 1e-37)
    }

    @Test("reductions handle lengths that are not multiples of 8")
    func reductions() {
        let values: [Float] = (0 ..< 19).map { Float($0) - 7.5 }
        values.withUnsafeBufferPointer { b in
            let p = b.baseAddress!
            #expect(Kernels.sum(p, 19) == values.reduce(0, +))
            #expect(Kernels.maximum(p, 19) == 10.5)
            #expect(Kernels.maximum(p, 0) == -.infinity)
            let mean = values.reduce(0, +) / 19
            let ssd = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            #expect(abs(Kernels.sumSquaredDeviations(p, 19, from: mean) - ssd) < 1e-3)
        }
    }
}
