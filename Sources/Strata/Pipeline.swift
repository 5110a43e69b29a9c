import Foundation
import StrataEmbed
import StrataHTTP
import StrataLabel
import StrataLinalg
import StrataStore

/// The outcome of `strata run`.
public struct RunResult: Sendable {
    public let document: TopicsDocument
    /// Where the topic columns were written.
    public let output: String
    /// Path of topics.json.
    public let topicsPath: String
    /// True when something degraded (labels fell back to keywords, records skipped).
    public var hasWarnings: Bool { !document.run.warnings.isEmpty }
}

/// `strata run`: read → embed (cached) → PCA → k-means → describe → label → hierarchy → write.
public enum Pipeline {
    static func now() -> Double { Date().timeIntervalSince1970 }
    static func iso(_ d: Date = Date()) -> String { ISO8601DateFormatter().string(from: d) }

    /// Runs the whole job. Outputs are replaced atomically only after every stage succeeded; a
    /// failure or interruption before that leaves the previous outputs untouched.
    public static func run(_ options: RunOptions, reporter: RunReporter = SilentReporter()) async throws -> RunResult {
        let startedAt = Date()
        let runID = "run-" + String(Int(startedAt.timeIntervalSince1970)) + "-" + String(UUID().uuidString.prefix(6)).lowercased()
        var timings: [String: Double] = [:]
        var warnings: [String] = []
        var t0 = now()
        func lap(_ name: String) { timings[name] = ((now() - t0) * 1000).rounded() / 1000; t0 = now() }

        // Read.
        reporter.stage("read \(options.source)")
        let read = try SourceReader.read(options.source, options: options.read)
        let docs = read.documents
        if read.skipped > 0 {
            warnings.append("skipped \(read.skipped) invalid record(s); first: \(read.warnings.first ?? "")")
            reporter.warning("skipped \(read.skipped) invalid record(s) (--skip-invalid)")
        }
        guard docs.count >= 3 else {
            throw StrataError(.failed, "\(options.source): found \(docs.count) document(s); at least 3 are needed to find topics")
        }
        reporter.info("\(docs.count) documents")
        lap("read")

        // Embed.
        reporter.stage("embed")
        let lock = try takeLock(options.stateDirectory, reporter: reporter)
        defer { lock.release() }
        let state = try StateDatabase(directory: options.stateDirectory)
        let tokenizer = try? WordPieceTokenizer(vocabularyURL: MiniLMEncoder.defaultModelDirectory().appendingPathComponent("vocab.txt"))
        let counter: ((String) -> Int)? = tokenizer.map { t in { t.encode($0).count } }
        let embedding = try await EmbeddingStage.embed(docs, spec: options.embedder, baseURL: options.embeddingBaseURL,
                                                       state: state, tokenCounter: counter, reporter: reporter)
        lap("embed")

        // Reduce.
        reporter.stage("reduce (PCA)")
        let x = embedding.matrix
        let maxComponents = max(1, min(options.pcaMaxComponents, x.cols, docs.count - 1))
        let pca = try PCA.fit(x, components: .varianceFraction(options.pcaVariance, max: maxComponents))
        // Unit-length rows in the reduced space and spherical k-means: on the shipped corpora this
        // beats Euclidean k-means on the raw or reduced vectors (scripts/eval/quality.sh).
        let y = try pca.transform(x).normalizedRows()
        let explained = pca.explainedVarianceRatio.reduce(0, +)
        reporter.info("\(pca.outputDimension) components, \(String(format: "%.1f", explained * 100))% of variance")
        lap("pca")

        // Cluster.
        reporter.stage("cluster (k-means)")
        var base = KMeans.Options(k: 2)
        base.seed = options.seed
        base.restarts = options.restarts
        base.metric = .cosine
        let model: KMeansModel
        var curve: [RunManifest.CurvePoint] = []
        let selection: String
        switch options.k {
        case .fixed(let k):
            guard k <= docs.count else {
                throw StrataError(.usage, "--k \(k) exceeds the number of documents (\(docs.count))")
            }
            base.k = k
            model = try KMeans.fitAuto(y, options: base)
            selection = "fixed"
        case .auto:
            let range = RunOptions.autoRange(documents: docs.count)
            var scan = base
            scan.restarts = 1
            let chosen = try ChooseK.choose(y, range: range, base: scan, sampleSize: 5_000) { done, total in
                reporter.progress("choose k", done: done, total: total)
            }
            curve = chosen.curve.map { .init(k: $0.k, silhouetteSampled: $0.sampledSilhouette, simplifiedSilhouette: $0.simplifiedSilhouette) }
            base.k = chosen.best
            model = try KMeans.fitAuto(y, options: base)
            selection = "auto: max sampled silhouette over \(range.lowerBound)…\(range.upperBound)"
        }
        reporter.info("k = \(model.k), inertia \(String(format: "%.4g", model.inertia)), \(model.iterations) iterations")
        lap("kmeans")

        // Topics ordered by size (largest first) get ids 0…k−1.
        var sizes = [Int](repeating: 0, count: model.k)
        for l in model.labels { sizes[l] += 1 }
        let order = (0..<model.k).filter { sizes[$0] > 0 }.sorted { sizes[$0] > sizes[$1] || (sizes[$0] == sizes[$1] && $0 < $1) }
        var remap = [Int](repeating: -1, count: model.k)
        for (newID, old) in order.enumerated() { remap[old] = newID }
        let labels = model.labels.map { remap[$0] }
        let k = order.count

        // Describe.
        reporter.stage("describe topics")
        let description = Describe.run(documents: docs, embeddings: x, labels: labels, k: k)
        lap("describe")

        // Label.
        reporter.stage("label topics (\(options.labeler))")
        let labeling = try await Labeling.run(description.sketches, spec: options.labeler, options: options,
                                              state: state, reporter: reporter)
        warnings += labeling.warnings
        lap("label")

        // Hierarchy.
        reporter.stage("hierarchy")
        let hierarchy = try await Hierarchy.build(description: description, labels: labeling.labels, documents: docs,
                                                  topicOfDocument: labels, spec: options.labeler, options: options,
                                                  state: state, reporter: reporter)
        lap("hierarchy")

        // Quality.
        let quality = try qualityFigures(y, labels: labels, model: model, seed: options.seed)

        // Assemble.
        var topics: [Topic] = []
        var members = [[String]](repeating: [], count: k)
        for (i, l) in labels.enumerated() { members[l].append(docs[i].id) }
        for t in 0..<k {
            topics.append(Topic(id: t, label: labeling.labels[t].label, description: labeling.labels[t].description,
                                keywords: description.keywords[t], size: members[t].count,
                                share: Double(members[t].count) / Double(docs.count),
                                representativeIDs: description.representatives[t].map { docs[$0].id },
                                parentID: hierarchy.parentOfTopic[t], cohesion: description.cohesion[t],
                                labelSource: labeling.labels[t].source, firstRun: runID, documentIDs: members[t]))
        }
        var sources: [String: Int] = [:]
        for l in labeling.labels { sources[l.source.rawValue, default: 0] += 1 }
        for p in hierarchy.parents { sources[p.labelSource.rawValue, default: 0] += 1 }
        let calls = labeling.calls + hierarchy.calls
        let promptTokens = labeling.promptTokens + hierarchy.promptTokens
        let completionTokens = labeling.completionTokens + hierarchy.completionTokens
        var cost: Double? = 0
        if case .openai(let m) = options.labeler {
            cost = try PriceTable.load(overrides: options.pricesFile).cost(model: m, input: promptTokens, output: completionTokens)
        }
        var manifest = RunManifest(
            id: runID, started: iso(startedAt), finished: "", strataVersion: strataVersion,
            source: options.source.description,
            counts: .init(documents: docs.count, skipped: read.skipped, embedded: embedding.embedded,
                          cached: embedding.cached, embeddedTokens: embedding.tokens),
            embedder: .init(name: options.embedder.description, fingerprint: embedding.fingerprint, dimension: x.cols),
            pca: .init(components: pca.outputDimension, explainedVarianceRatio: explained),
            kmeans: .init(k: k, selection: selection, curve: curve, inertia: model.inertia, iterations: model.iterations,
                          restarts: options.restarts, seed: options.seed,
                          algorithm: y.rows > KMeans.miniBatchThreshold ? "mini-batch" : "lloyd"),
            labeler: .init(name: options.labeler.description, model: { if case .openai(let m) = options.labeler { return m }; return nil }(),
                           calls: calls, promptTokens: promptTokens, completionTokens: completionTokens, costUSD: cost,
                           sources: sources, notes: Array((labeling.notes + hierarchy.notes).prefix(50))),
            timings: timings, warnings: warnings)

        // Write: topic columns at the source, then topics.json and the state, each atomically.
        reporter.stage("write")
        var columns: [String: TopicColumns] = [:]
        for (i, d) in docs.enumerated() {
            let t = labels[i]
            columns[d.id] = TopicColumns(topicID: t, topicLabel: topics[t].label,
                                         topicScore: Double(description.scores[i]), topicParentID: hierarchy.parentOfTopic[t],
                                         topicRun: runID)
        }
        let rows = topics.map { TopicRow(id: $0.id, label: $0.label, description: $0.description, keywords: $0.keywords,
                                         size: $0.size, parentID: $0.parentID) }
        let output = try TopicWriter.write(location: options.source, options: options.read, documents: docs,
                                           columns: columns, topics: rows)
        lap("write")
        manifest.timings = timings
        manifest.finished = iso()
        let document = TopicsDocument(run: manifest, topics: topics, hierarchy: hierarchy.parents, quality: quality, drift: nil)
        let topicsPath = (options.stateDirectory as NSString).appendingPathComponent("topics.json")
        try AtomicFile.write(topicsPath, data: try document.encoded())
        try state.recordRun(id: runID, manifest: try JSONEncoder().encode(manifest),
                            assignments: docs.enumerated().map {
                                StateDatabase.Assignment(id: $1.id, hash: $1.contentHash, topic: labels[$0],
                                                         score: Double(description.scores[$0]), snippet: String($1.text.prefix(300)))
                            })
        return RunResult(document: document, output: output, topicsPath: topicsPath)
    }

    /// The state directory's lock, as a ``StrataError`` with the lock exit code when it is held.
    public static func takeLock(_ directory: String, reporter: RunReporter) throws -> StateLock {
        do {
            let lock = try StateLock(directory: directory)
            if let previous = lock.tookOverFrom { reporter.warning("took over a stale lock (\(previous))") }
            return lock
        } catch let held as StateLock.Held {
            throw StrataError(.locked, held.description)
        }
    }

    static func qualityFigures(_ y: Matrix, labels: [Int], model: KMeansModel, seed: UInt64) throws -> Quality {
        guard Set(labels).count >= 2 && Set(labels).count < y.rows else { return Quality() }
        let sampled = try ClusterMetrics.sampledSilhouette(y, labels: labels, sampleSize: 5_000, seed: seed)
        let simple = ClusterMetrics.simplifiedSilhouette(try model.predict(y))
        return Quality(silhouetteSampled: sampled, simplifiedSilhouette: simple,
                       calinskiHarabasz: try ClusterMetrics.calinskiHarabasz(y, labels: labels),
                       daviesBouldin: try ClusterMetrics.daviesBouldin(y, labels: labels))
    }
}
