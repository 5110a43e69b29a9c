import Foundation
import Testing
import StrataLinalg

@Suite("k-means against scikit-learn")
struct KMeansTests {
    /// The scikit-learn fixture's data and the options of its fit (same initial centres and tolerance).
    static func fixtureFit(_ parallelism: KMeans.Parallelism) throws -> (Fixture, Matrix, KMeans.Options) {
        let f = try Fixture("kmeans")
        let k = f.int("k"), d = f.int("d")
        var opts = KMeans.Options(k: k)
        opts.initialization = .centroids(try f.matrix("init", rows: k, cols: d))
        opts.tolerance = f.double("tol")
        opts.parallelism = parallelism
        return (f, try f.x(), opts)
    }

    @Test("from the same initial centres: ≥ 99.9% equal labels, inertia within 1e-4 relative",
          arguments: [KMeans.Parallelism.tiles, .blas])
    func sameInit(parallelism: KMeans.Parallelism) throws {
        let (f, x, opts) = try Self.fixtureFit(parallelism)
        let k = f.int("k"), d = f.int("d")
        let model = try KMeans.fit(x, options: opts)
        let reference = f.ints("labels")
        let agree = zip(model.labels, reference).filter { $0 == $1 }.count
        let share = Double(agree) / Double(reference.count)
        #expect(share >= 0.999, "label agreement \(share)")
        #expect(relativeError(model.inertia, f.double("inertia_float64")) <= 1e-4,
                "inertia \(model.inertia) vs \(f.double("inertia_float64"))")
        #expect(model.iterations == f.int("n_iter"), "iterations \(model.iterations) vs scikit-learn's \(f.int("n_iter"))")
        let centers = f.doubles("centers")
        for i in 0..<(k * d) { #expect(abs(Double(model.centroids.storage[i]) - centers[i]) <= 1e-3) }
    }

    @Test("k-means++ over 20 seeds: seeding inertia within 2% of scikit-learn's, fitted inertia no worse than 2% above")
    func plusPlusDistribution() throws {
        let f = try Fixture("kmeanspp")
        let x = try f.x(), k = f.int("k")
        var initInertia: [Double] = [], fitInertia: [Double] = []
        for seed in 0..<20 {
            initInertia.append(try KMeans.kMeansPlusPlus(x, k: k, seed: UInt64(seed)).inertia)
            var opts = KMeans.Options(k: k)
            opts.seed = UInt64(seed)
            fitInertia.append(try KMeans.fit(x, options: opts).inertia)
        }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
        let refInit = mean(f.doubles("init_inertia")), refFit = mean(f.doubles("fit_inertia"))
        print("k-means++ mean inertia: init \(mean(initInertia)) vs sklearn \(refInit); fit \(mean(fitInertia)) vs \(refFit)")
        // The seeding distributions must agree; after Lloyd, ending lower than scikit-learn is fine.
        #expect(relativeError(mean(initInertia), refInit) <= 0.02)
        #expect(mean(fitInertia) <= refFit * 1.02)
    }

    @Test("deterministic for a given seed; restarts never increase inertia")
    func determinism() throws {
        let f = try Fixture("kmeanspp")
        let x = try f.x()
        var opts = KMeans.Options(k: 25)
        opts.seed = 42
        let a = try KMeans.fit(x, options: opts), b = try KMeans.fit(x, options: opts)
        #expect(a.labels == b.labels)
        #expect(a.centroids == b.centroids)
        opts.restarts = 4
        let c = try KMeans.fit(x, options: opts)
        #expect(c.inertia <= a.inertia)
    }

    @Test("predict: labels equal the fit's, distances match brute force, second ≥ first")
    func predict() throws {
        let f = try Fixture("kmeans")
        let x = try f.x(), k = f.int("k"), d = f.int("d")
        let model = try KMeans.fit(x, options: KMeans.Options(k: k))
        let a = try model.predict(x)
        #expect(a.labels == model.labels)
        for i in stride(from: 0, to: x.rows, by: 97) {
            var ds: [Double] = []
            for c in 0..<k {
                var s = 0.0
                for j in 0..<d { let v = Double(x[i, j] - model.centroids[c, j]); s += v * v }
                ds.append(s)
            }
            let sorted = ds.sorted()
            #expect(abs(Double(a.squaredDistances[i]) - sorted[0]) <= 1e-3 * max(1, sorted[0]))
            #expect(abs(Double(a.secondSquaredDistances[i]) - sorted[1]) <= 1e-3 * max(1, sorted[1]))
        }
    }

    @Test("cosine mode: unit-norm centroids, inertia = Σ(1 − cos)")
    func spherical() throws {
        let f = try Fixture("kmeans")
        let x = try f.x().normalizedRows()
        var opts = KMeans.Options(k: 10)
        opts.metric = .cosine
        let model = try KMeans.fit(x, options: opts)
        for c in 0..<10 {
            var s: Float = 0
            for j in 0..<x.cols { s += model.centroids[c, j] * model.centroids[c, j] }
            #expect(abs(s - 1) < 1e-4)
        }
        var inertia = 0.0
        for i in 0..<x.rows {
            var dot = 0.0
            for j in 0..<x.cols { dot += Double(x[i, j] * model.centroids[model.labels[i], j]) }
            inertia += 1 - dot
        }
        #expect(relativeError(model.inertia, inertia) <= 1e-3)
        #expect(throws: LinalgError.self) { try KMeans.fit(try f.x(), options: opts) }  // not normalised
    }

    @Test("mini-batch k-means: inertia within 3% of full k-means, comparable to scikit-learn's MiniBatchKMeans")
    func miniBatch() throws {
        let f = try Fixture("minibatch")
        let x = try f.x(), k = f.int("k")
        var values: [Double] = []
        for seed in 0..<5 {
            var o = MiniBatchKMeans.Options(k: k)
            o.seed = UInt64(seed)
            values.append(try MiniBatchKMeans.fit(x, options: o).inertia)
        }
        let ours = values.sorted()[2]
        let sk = f.doubles("inertia_minibatch").sorted()[2]
        print("mini-batch median inertia \(ours), scikit-learn's \(sk), full \(f.double("inertia_full"))")
        #expect(ours <= f.double("inertia_full") * 1.03)
        #expect(ours <= sk * 1.02)
    }
}

@Suite("k-means with Hamerly's bounds against plain Lloyd")
struct BoundedKMeansTests {
    /// Blobs with overlap, so that rows keep moving for a while (the bounds have work to do).
    static func blobs(n: Int, d: Int, centres: Int, seed: UInt64) -> Matrix {
        var rng = SplitMix(s: seed)
        let means = (0..<(centres * d)).map { _ in Float(rng.unit() * 8 - 4) }
        var m = Matrix(rows: n, cols: d)
        for i in 0..<n {
            let c = Int(rng.next() % UInt64(centres))
            for j in 0..<d { m[i, j] = means[c * d + j] + Float(rng.gaussian()) }
        }
        return m
    }

    static func fit(_ x: Matrix, k: Int, _ algorithm: KMeans.Algorithm, parallelism: KMeans.Parallelism = .tiles,
                    metric: KMeans.Metric = .euclidean, tol: Double = 1e-4) throws -> KMeansModel {
        var opts = KMeans.Options(k: k)
        opts.seed = 7
        opts.algorithm = algorithm
        opts.parallelism = parallelism
        opts.metric = metric
        opts.tolerance = tol
        return try KMeans.fit(x, options: opts)
    }

    @Test("scikit-learn fixture: the same labels, bit-identical centroids and the same iteration count as Lloyd",
          arguments: [KMeans.Parallelism.tiles, .blas, .serial])
    func fixture(parallelism: KMeans.Parallelism) throws {
        var (f, x, opts) = try KMeansTests.fixtureFit(parallelism)
        opts.algorithm = .lloyd
        let lloyd = try KMeans.fit(x, options: opts)
        opts.algorithm = .hamerly
        let hamerly = try KMeans.fit(x, options: opts)
        #expect(hamerly.labels == lloyd.labels)
        #expect(hamerly.labels == f.ints("labels"))
        #expect(hamerly.centroids == lloyd.centroids)
        #expect(hamerly.iterations == lloyd.iterations)
        #expect(hamerly.inertia == lloyd.inertia)
    }

    @Test("to convergence on 20,000 overlapping points, euclidean and cosine: identical results, most rows skipped",
          arguments: [KMeans.Metric.euclidean, .cosine])
    func converged(metric: KMeans.Metric) throws {
        var x = Self.blobs(n: 20_000, d: 24, centres: 30, seed: 11)
        if metric == .cosine { x = x.normalizedRows() }
        let lloyd = try Self.fit(x, k: 40, .lloyd, metric: metric, tol: 0)
        let hamerly = try Self.fit(x, k: 40, .hamerly, metric: metric, tol: 0)
        #expect(hamerly.labels == lloyd.labels)
        #expect(hamerly.centroids == lloyd.centroids)
        #expect(hamerly.iterations == lloyd.iterations)
        #expect(lloyd.rowsAssigned == 20_000 * lloyd.iterations)
        let share = Double(hamerly.rowsAssigned) / Double(lloyd.rowsAssigned)
        print("hamerly (\(metric)): \(hamerly.iterations) iterations, rows recomputed \(hamerly.rowsAssigned) of \(lloyd.rowsAssigned) (\(share))")
        #expect(lloyd.iterations > 10)
        #expect(share < 0.5)
    }
}

/// Uniform and Box–Muller normal draws from the tests' SplitMix64.
extension SplitMix {
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func gaussian() -> Double {
        let u = max(unit(), 1e-300), v = unit()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
