import Foundation
import Testing
@testable import StrataLinalg

/// The kernel-independent nearest-centre rule: whatever rounding a BLAS kernel puts into the scores, within
/// the stated allowance, the chosen centre is the one with the smallest squared distance in `Double`.
@Suite("nearest centre: the same choice under any BLAS rounding")
struct NearestCentreTests {
    /// Exact scores ‖c‖² − 2x·c in Double (the reference the rule must agree with), and the allowance E.
    static func exact(_ x: [Float], _ c: [Float], k: Int, d: Int) -> (scores: [Double], e: Double, argmin: Int) {
        var scores = [Double](repeating: 0, count: k)
        var best = 0, bestDistance = Double.infinity
        var cmax2 = 0.0
        for j in 0..<k {
            var cc = 0.0, xc = 0.0, dist = 0.0
            for t in 0..<d {
                let cv = Double(c[j * d + t]), xv = Double(x[t])
                cc += cv * cv; xc += xv * cv; dist += (xv - cv) * (xv - cv)
            }
            scores[j] = cc - 2 * xc
            cmax2 = max(cmax2, cc)
            if dist < bestDistance { bestDistance = dist; best = j }
        }
        let xx = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        return (scores, NearestCentre.gamma(cols: d) * (xx + cmax2), best)
    }

    @Test("near-ties with scores perturbed anywhere within the allowance: always the Double arg-min")
    func perturbedNearTies() {
        var rng = SplitMix(s: 42)
        let d = 24, k = 12
        var agreed = 0, nearTies = 0
        for trial in 0..<2_000 {
            var c = (0..<(k * d)).map { _ in Float(rng.gaussian()) }
            // Centre 1 is centre 0 moved by about 1e-6, and the row lies near both, so the two nearest
            // distances agree to within float rounding: the case where kernels disagree.
            for t in 0..<d { c[d + t] = c[t] + Float(rng.unit() - 0.5) * 1e-6 }
            let x = (0..<d).map { c[$0] + Float(rng.gaussian() * 0.3) }
            let (scores, e, argmin) = Self.exact(x, c, k: k, d: d)
            if argmin < 2 && abs(scores[0] - scores[1]) < 2 * e { nearTies += 1 }
            // A "kernel": every score off by an arbitrary amount within ±E, different for each trial.
            let noisy = scores.map { Float($0 + (rng.unit() * 2 - 1) * e * 0.95) }
            let choice = noisy.withUnsafeBufferPointer { s in
                x.withUnsafeBufferPointer { xp in
                    c.withUnsafeBufferPointer { cp in
                        NearestCentre.choose(scores: s.baseAddress!, k: k, x: xp.baseAddress!, centres: cp.baseAddress!,
                                             d: d, allowance: e)
                    }
                }
            }
            if choice.index == argmin { agreed += 1 } else { Issue.record("trial \(trial): chose \(choice.index), Double arg-min \(argmin)") }
            // In a near-tie the chosen centre's (rounded) score may sit above another's, by at most the allowance.
            #expect(Double(choice.second) >= Double(choice.score) - 2.02 * e)
        }
        #expect(agreed == 2_000)
        #expect(nearTies > 1_000, "the trials must exercise near-ties, got \(nearTies)")
    }

    @Test("an exact tie goes to the first index; one centre gives +∞ as the second score")
    func ties() {
        let x: [Float] = [1, 0], c: [Float] = [0, 1, 0, -1, 5, 5]
        let (scores, e, _) = Self.exact(x, c, k: 3, d: 2)
        let s = scores.map(Float.init)
        let choice = NearestCentre.choose(scores: s, k: 3, x: x, centres: c, d: 2, allowance: e)
        #expect(choice.index == 0)
        let one = NearestCentre.choose(scores: [Float(scores[2])], k: 1, x: x, centres: [5, 5], d: 2, allowance: e)
        #expect(one.index == 0 && one.second == .infinity)
    }
}
