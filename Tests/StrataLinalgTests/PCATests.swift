import Testing
import StrataLinalg

@Suite("PCA against scikit-learn (covariance_eigh)")
struct PCATests {
    let f: Fixture
    let x: Matrix
    init() throws { f = try Fixture("pca"); x = try f.x() }

    @Test("components |cos| ≥ 0.9999 and explained variance within 1e-4 relative")
    func componentsAndVariance() throws {
        let p = f.int("n_components"), d = f.int("d")
        let pca = try PCA.fit(x, components: .count(p))
        let reference = f.doubles("components")
        let ev = f.doubles("explained_variance"), ratio = f.doubles("explained_variance_ratio")
        for c in 0..<p {
            var dot = 0.0, na = 0.0, nb = 0.0
            for j in 0..<d {
                let a = Double(pca.components[c, j]), b = reference[c * d + j]
                dot += a * b; na += a * a; nb += b * b
            }
            let cos = abs(dot) / (na * nb).squareRoot()
            #expect(cos >= 0.9999, "component \(c): |cos| = \(cos)")
            #expect(relativeError(pca.explainedVariance[c], ev[c]) <= 1e-4, "variance \(c): \(pca.explainedVariance[c]) vs \(ev[c])")
            #expect(relativeError(pca.explainedVarianceRatio[c], ratio[c]) <= 1e-4)
        }
        let mean = f.doubles("mean")
        for j in 0..<d { #expect(abs(Double(pca.mean[j]) - mean[j]) <= 1e-3) }
    }

    @Test("sign convention: the largest entry of every component is positive (as scikit-learn)")
    func signs() throws {
        let pca = try PCA.fit(x, components: .count(f.int("n_components")))
        let reference = f.doubles("components"), d = f.int("d")
        for c in 0..<pca.outputDimension {
            var dot = 0.0
            for j in 0..<d { dot += Double(pca.components[c, j]) * reference[c * d + j] }
            #expect(dot > 0, "component \(c) has the opposite sign of scikit-learn's")
        }
    }

    @Test("transform and whitened transform equal scikit-learn's (abs error ≤ 1e-3 of the column scale)")
    func transform() throws {
        let p = f.int("n_components"), n = f.int("n")
        for (whiten, key) in [(false, "transformed"), (true, "transformed_whiten")] {
            let pca = try PCA.fit(x, components: .count(p), whiten: whiten)
            let y = try pca.transform(x)
            let reference = f.doubles(key)
            for c in 0..<p {
                let scale = whiten ? 1 : pca.explainedVariance[c].squareRoot()
                var worst = 0.0
                for r in 0..<n { worst = max(worst, abs(Double(y[r, c]) - reference[r * p + c])) }
                #expect(worst <= 1e-3 * scale, "whiten=\(whiten) column \(c): max error \(worst), scale \(scale)")
            }
        }
    }

    @Test("variance fraction picks the same number of components as scikit-learn",
          arguments: [("0.5", 0.5), ("0.9", 0.9), ("0.99", 0.99)])
    func fraction(key: String, fraction: Double) throws {
        let expected = (f.json["n_components_for_fraction"] as! [String: Int])[key]!
        let pca = try PCA.fit(x, components: .varianceFraction(fraction))
        #expect(pca.outputDimension == expected)
        let capped = try PCA.fit(x, components: .varianceFraction(0.99, max: 3))
        #expect(capped.outputDimension == 3)
    }
}

@Suite("PCA accumulated over slices (streamed fit, issue #27)")
struct PCAAccumulatorTests {
    let f: Fixture
    let x: Matrix
    init() throws { f = try Fixture("pca"); x = try f.x() }

    /// Rows `range` of `x` as a matrix.
    func rows(_ range: Range<Int>) -> Matrix { x.gathering(rows: Array(range)) }

    @Test("uneven slices give scikit-learn's components (|cos| ≥ 0.9999) and variances (1e-4 relative)")
    func slicesMatchScikitLearn() throws {
        let p = f.int("n_components"), d = f.int("d"), n = x.rows
        var acc = PCA.Accumulator(dimension: d)
        var start = 0
        for size in [1, 7, n / 3, 0, 2] {   // a one-row first slice: the shift is that row, not the mean
            let end = min(n, start + size)
            try acc.add(rows(start..<end))
            start = end
        }
        try acc.add(rows(start..<n))
        #expect(acc.count == n)
        let pca = try acc.fit(components: .count(p))
        let reference = f.doubles("components"), ev = f.doubles("explained_variance")
        for c in 0..<p {
            var dot = 0.0
            for j in 0..<d { dot += Double(pca.components[c, j]) * reference[c * d + j] }
            #expect(dot >= 0.9999, "component \(c): cos \(dot) (sign included)")
            #expect(relativeError(pca.explainedVariance[c], ev[c]) <= 1e-4)
        }
        let mean = f.doubles("mean")
        for j in 0..<d { #expect(abs(Double(pca.mean[j]) - mean[j]) <= 1e-3) }
    }

    @Test("one slice is the one-matrix fit bit for bit")
    func oneSliceIsTheFit() throws {
        var acc = PCA.Accumulator(dimension: x.cols)
        try acc.add(x)
        let a = try acc.fit(components: .varianceFraction(0.9))
        let b = try PCA.fit(x, components: .varianceFraction(0.9))
        #expect(a.components.storage == b.components.storage)
        #expect(a.mean == b.mean)
        #expect(a.explainedVariance == b.explainedVariance)
    }

    @Test("a non-finite entry is located across slices; another width and too few rows are refused")
    func errors() throws {
        var acc = PCA.Accumulator(dimension: x.cols)
        try acc.add(rows(0..<10))
        var bad = rows(10..<20)
        bad[3, 1] = .nan
        #expect(throws: LinalgError.nonFinite(row: 13, column: 1)) { try acc.add(bad) }
        #expect(throws: LinalgError.self) { try acc.add(Matrix(rows: 2, cols: x.cols + 1)) }
        var one = PCA.Accumulator(dimension: x.cols)
        try one.add(rows(0..<1))
        #expect(throws: LinalgError.tooFewRows(operation: "PCA.fit", needed: 2, got: 1)) { try one.fit(components: .count(1)) }
    }
}
