import Foundation
import Testing
@testable import StrataEmbed

@Suite("element kernels")
struct KernelTests {
    @Test("erf is within 5e-8 of the double-precision erf on [-8, 8]")
    func erfAccuracy() {
        var worst = 0.0
        var x: Float = -8
        while x <= 8 {
            worst = max(worst, abs(Double(Kernels.erf(x)) - Foundation.erf(Double(x))))
            x += 1.0 / 4096
        }
        #expect(worst < 5e-8)
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
