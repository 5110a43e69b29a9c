import Testing
import StrataLinalg

@Suite("ridge map without intercept against scikit-learn's Ridge")
struct RidgeTests {
    let f: Fixture
    let x: Matrix, y: Matrix
    init() throws {
        f = try Fixture("ridge")
        x = try f.matrix("X", rows: f.int("m"), cols: f.int("p"))
        y = try f.matrix("Y", rows: f.int("m"), cols: f.int("q"))
    }

    @Test("W for λ = 1e-2 per row matches Ridge(alpha = λ·m, fit_intercept=False) within 1e-4")
    func fixedPenalty() throws {
        let w = try Ridge.fit(x: x, y: y, lambda: f.double("lambda"))
        #expect(w.rows == f.int("p") && w.cols == f.int("q"))
        let reference = f.doubles("W")
        let worst = zip(w.storage, reference).map { abs(Double($0) - $1) }.max()!
        #expect(worst <= 1e-4, "max |Δ| = \(worst)")
    }

    @Test("the held-out rule (every 10th row) gives scikit-learn's cosines within 1e-5, picks the same penalty and refits on all rows")
    func chosenPenalty() throws {
        let choice = try Ridge.fitChoosingPenalty(x: x, y: y, candidates: f.doubles("candidates"))
        for (a, b) in zip(choice.heldOutCosine, f.doubles("held_out_cosine")) { #expect(abs(a - b) <= 1e-5, "\(a) vs \(b)") }
        #expect(choice.lambda == f.double("chosen"))
        let worst = zip(choice.map.storage, f.doubles("W_chosen")).map { abs(Double($0) - $1) }.max()!
        #expect(worst <= 1e-4, "max |Δ| = \(worst)")
    }

    @Test("bad input: different row counts, one row, a non-positive penalty, a non-finite entry")
    func badInput() throws {
        #expect(throws: LinalgError.self) { try Ridge.fit(x: x, y: Matrix(rows: 3, cols: 2), lambda: 1) }
        #expect(throws: LinalgError.self) { try Ridge.fit(x: Matrix(rows: 1, cols: 2), y: Matrix(rows: 1, cols: 2), lambda: 1) }
        #expect(throws: LinalgError.self) { try Ridge.fit(x: x, y: y, lambda: 0) }
        #expect(throws: LinalgError.self) { try Ridge.fitChoosingPenalty(x: x, y: y, candidates: []) }
        var bad = x.storage
        bad[5] = .nan
        #expect(throws: LinalgError.self) { try Ridge.fit(x: try Matrix(rows: x.rows, cols: x.cols, storage: bad), y: y, lambda: 1) }
    }
}
