import Benchmark
import StrataLinalg

/// Synthetic, seeded data: `centres` Gaussian blobs in `d` dimensions, rows L2-normalised.
func blobs(n: Int, d: Int, centres: Int, seed: UInt64) -> Matrix {
    var rng = SeededGenerator(seed: seed)
    let c = (0..<(centres * d)).map { _ in Float(rng.nextUnit() * 2 - 1) }
    var storage = [Float](repeating: 0, count: n * d)
    for r in 0..<n {
        let k = Int(rng.next() % UInt64(centres))
        for j in 0..<d { storage[r * d + j] = c[k * d + j] + Float(rng.nextUnit() - 0.5) * 0.6 }
    }
    return (try! Matrix(rows: n, cols: d, storage: storage)).normalizedRows()
}

let benchmarks: @Sendable () -> Void = {
    let config = Benchmark.Configuration(metrics: [.wallClock, .peakMemoryResident], maxDuration: .seconds(10),
                                         maxIterations: 10)

    for d in [64, 384] {
        let x = blobs(n: 50_000, d: d, centres: 100, seed: 1)
        let initial = x.gathering(rows: Array(stride(from: 0, to: 50_000, by: 500)))
        for parallelism in [KMeans.Parallelism.tiles, .blas] {
            Benchmark("kmeans 10 iterations n=50k d=\(d) k=100 \(parallelism)", configuration: config) { benchmark in
                var o = KMeans.Options(k: 100)
                o.initialization = .centroids(initial)
                o.maxIterations = 10
                o.tolerance = 0
                o.parallelism = parallelism
                for _ in benchmark.scaledIterations { blackHole(try KMeans.fit(x, options: o)) }
            }
        }
        Benchmark("k-means++ n=50k d=\(d) k=100", configuration: config) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try KMeans.kMeansPlusPlus(x, k: 100, seed: 3)) }
        }
        Benchmark("PCA fit n=50k d=\(d) -> 32", configuration: config) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try PCA.fit(x, components: .count(32))) }
        }
    }

    let small = blobs(n: 5_000, d: 64, centres: 20, seed: 2)
    let labels = (0..<5_000).map { $0 % 20 }
    Benchmark("silhouette n=5k d=64", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try ClusterMetrics.silhouette(small, labels: labels)) }
    }
    var rng = SeededGenerator(seed: 4)
    let costs = (0..<(200 * 200)).map { _ in rng.nextUnit() }
    Benchmark("Hungarian 200×200", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try Hungarian.solve(costs: costs, rowCount: 200, columnCount: 200))
        }
    }
}
