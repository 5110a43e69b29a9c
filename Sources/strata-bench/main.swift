import Foundation
import Strata
import StrataEmbed
import StrataLinalg

// Runs the numeric core on .npy inputs for scripts/bench/*.sh and prints one JSON object per command.
// Not a user-facing tool: the comparison scripts drive it next to scikit-learn and FAISS.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("strata-bench: \(message)\n".utf8))
    exit(2)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    fail("usage: strata-bench kmeans|pca|fit|sgemm|kmeans-memory [--options]")
}
let options: [String: String] = {
    let args = Array(arguments.dropFirst())
    var out: [String: String] = [:]
    var i = 0
    while i < args.count {
        guard args[i].hasPrefix("--"), i + 1 < args.count else { fail("bad argument \(args[i])") }
        out[String(args[i].dropFirst(2))] = args[i + 1]
        i += 2
    }
    return out
}()
func opt(_ name: String) -> String? { options[name] }
func int(_ name: String, _ def: Int) -> Int { opt(name).flatMap(Int.init) ?? def }
func double(_ name: String, _ def: Double) -> Double { opt(name).flatMap(Double.init) ?? def }
func load(_ name: String) -> Matrix {
    guard let path = opt(name) else { fail("--\(name) FILE.npy is required") }
    do { return try NPY.readMatrix(from: URL(fileURLWithPath: path)) } catch { fail("\(path): \(error)") }
}
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func medianOf(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }
func emit(_ dict: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: dict, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}
func parallelism() -> KMeans.Parallelism { opt("parallelism") == "blas" ? .blas : .tiles }
/// `--algorithm lloyd|hamerly` (default: `fallback`).
func algorithm(_ fallback: KMeans.Algorithm) -> KMeans.Algorithm {
    switch opt("algorithm") {
    case nil: return fallback
    case "lloyd": return .lloyd
    case "hamerly": return .hamerly
    case let other?: fail("--algorithm \(other): expected lloyd or hamerly")
    }
}
/// Writes labels as an n×1 float32 .npy (exact for n < 2²⁴) when `--labels-out` is given.
func writeLabels(_ labels: [Int]) {
    guard let path = opt("labels-out") else { return }
    var m = Matrix(rows: labels.count, cols: 1)
    for (i, l) in labels.enumerated() { m[i, 0] = Float(l) }
    do { try NPY.write(m, to: URL(fileURLWithPath: path)) } catch { fail("\(path): \(error)") }
}

do {
    switch command {
    case "kmeans":
        let x = load("data"), c = load("init")
        let iterations = int("iterations", 20), repeats = int("repeats", 3)
        var opts = KMeans.Options(k: c.rows)
        opts.initialization = .centroids(c)
        opts.maxIterations = iterations
        opts.tolerance = 0
        opts.parallelism = parallelism()
        opts.algorithm = algorithm(.lloyd)  // the per-iteration comparison times plain Lloyd passes
        var times: [Double] = []
        var last: KMeansModel?
        for _ in 0..<repeats {
            let t0 = now()
            let m = try KMeans.fit(x, options: opts)
            times.append((now() - t0) / Double(m.iterations) * 1000)
            last = m
        }
        emit(["ms_per_iteration": medianOf(times), "inertia": last!.inertia, "iterations": last!.iterations,
              "all_ms_per_iteration": times])
    case "fit":
        let x = load("data"), c = load("init")
        var opts = KMeans.Options(k: c.rows)
        opts.initialization = .centroids(c)
        opts.maxIterations = int("max-iterations", 300)
        opts.tolerance = double("tol", 1e-4)
        opts.parallelism = parallelism()
        opts.algorithm = algorithm(.hamerly)
        var times: [Double] = []
        var last: KMeansModel?
        for _ in 0..<int("repeats", 3) {
            let t0 = now()
            last = try KMeans.fit(x, options: opts)
            times.append((now() - t0) * 1000)
        }
        writeLabels(last!.labels)
        emit(["ms": medianOf(times), "iterations": last!.iterations, "inertia": last!.inertia, "all_ms": times,
              "rows_assigned_share": Double(last!.rowsAssigned) / Double(x.rows * last!.iterations),
              "algorithm": opts.algorithm == .hamerly ? "hamerly" : "lloyd"])
    case "choose-k":
        // Strata's k = auto path on already reduced, unit-length rows: the sample scan, then the final
        // fit on all rows warm-started from the chosen sample fit (as FullRun does).
        let y = load("data")
        var base = KMeans.Options(k: 2)
        base.seed = UInt64(int("seed", 42)); base.metric = .cosine
        var scans: [Double] = [], finals: [Double] = []
        var last: (ChooseK.Result, KMeansModel)?
        for _ in 0..<int("repeats", 3) {
            var t0 = now()
            let chosen = try ChooseK.choose(y, range: int("lo", 30)...int("hi", 100), base: base, sampleSize: int("sample", 5_000))
            scans.append(now() - t0)
            var o = base; o.k = chosen.best; o.initialization = .centroids(chosen.model.centroids)
            t0 = now(); let final = try KMeans.fitAuto(y, options: o); finals.append(now() - t0)
            last = (chosen, final)
        }
        emit(["scan_s": medianOf(scans), "final_fit_s": medianOf(finals), "k": last!.1.k, "final_iterations": last!.1.iterations,
              "silhouettes": last!.0.curve.map { ($0.sampledSilhouette * 1e5).rounded() / 1e5 }, "labels_hash": last!.1.labels.hashValue])
    case "pca":
        let x = load("data")
        var times: [Double] = []
        var ratio = 0.0
        for _ in 0..<int("repeats", 3) {
            let t0 = now()
            let p = try PCA.fit(x, components: .count(int("components", 64)), parallelism: parallelism())
            times.append((now() - t0) * 1000)
            ratio = p.explainedVarianceRatio.reduce(0, +)
        }
        emit(["ms": medianOf(times), "explained_variance_ratio_sum": ratio, "all_ms": times])
    case "sgemm":
        emit(["gflops": BLAS.measureSgemmPeak(size: int("size", 4096), repeats: int("repeats", 5)),
              "threads": BLAS.threadCount, "core": BLAS.coreName, "library": BLASLibrary.active.description])
    case "kmeans-memory":
        let n = int("n", 1_000_000), d = int("d", 64), k = int("k", 256)
        var rng = SeededGenerator(seed: 7)
        var storage = [Float](repeating: 0, count: n * d)
        let centres = (0..<(k * d)).map { _ in Float(rng.nextUnit() * 20 - 10) }
        for r in 0..<n {
            let c = Int(rng.next() % UInt64(k))
            for j in 0..<d { storage[r * d + j] = centres[c * d + j] + Float(rng.nextUnit() * 2 - 1) }
        }
        let x = try Matrix(rows: n, cols: d, storage: storage)
        storage = []
        var opts = KMeans.Options(k: k)
        opts.maxIterations = int("max-iterations", 50)
        let t0 = now()
        let m = try KMeans.fitAuto(x, options: opts)
        emit(["seconds": now() - t0, "iterations": m.iterations, "inertia": m.inertia,
              "input_bytes": n * d * 4, "centroid_bytes": k * d * 4])
    case "encode":
        guard let input = opt("input") else { fail("--input TEXTS.jsonl is required") }
        let texts: [String] = try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n").map {
            let obj = try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            return obj["text"] as? String ?? ""
        }
        let dir = opt("model-dir").map { URL(fileURLWithPath: $0) } ?? MiniLMEncoder.defaultModelDirectory()
        let encoder = try MiniLMEncoder(modelDirectory: dir)
        var options = EncodeOptions()
        if let b = opt("max-batch-tokens").flatMap(Int.init) { options.maxBatchTokens = b }
        if opt("parallelism") == "blas" { options.parallelism = .blasThreads }
        let tokens = texts.reduce(0) { $0 + encoder.tokenize($1).count }
        var times: [Double] = []
        var vectors: [Float] = []
        for _ in 0..<int("repeats", 3) {
            let t0 = now()
            vectors = encoder.embed(texts, options: options)
            times.append(now() - t0)
        }
        if let out = opt("out") {
            try NPY.write(try Matrix(rows: texts.count, cols: encoder.dimension, storage: vectors), to: URL(fileURLWithPath: out))
        }
        emit(["seconds": medianOf(times), "tokens": tokens, "docs": texts.count, "all_seconds": times,
              "blas": BLASLibrary.active.description])
    case "search":
        // Latency of topic-filtered search over a run's stored vectors, excluding the query's own embedding.
        guard let state = opt("state") else { fail("--state DIR is required") }
        let index = try SearchIndex(stateDirectory: state)
        let queries = int("queries", 100), k = int("k", 10)
        let texts = index.document.topics.flatMap { $0.keywords.prefix(3) }
        var vectors: [[Float]] = []
        for i in 0..<queries { vectors.append(try await index.embedQuery(texts[i % max(1, texts.count)])) }
        let largest = index.document.topics.max { $0.size < $1.size }!
        var results: [String: Any] = ["documents": index.count, "queries": queries, "k": k]
        for (name, filter) in [("all", nil as Set<Int>?), ("topic", Set([largest.id]))] {
            var ms: [Double] = []
            for v in vectors {
                let t0 = now()
                _ = try index.search(vector: v, filter: filter, k: k)
                ms.append((now() - t0) * 1000)
            }
            ms.sort()
            results["\(name)_p50_ms"] = ms[ms.count / 2]
            results["\(name)_p95_ms"] = ms[Int(Double(ms.count) * 0.95)]
        }
        results["topic_size"] = largest.size
        emit(results)
    default:
        fail("unknown command \(command)")
    }
} catch {
    fail("\(error)")
}
