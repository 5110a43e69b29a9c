import Foundation
import StrataEmbed
import StrataLabel
import StrataLinalg
import StrataStore

/// A full fit: embed every document (cached), PCA, spherical k-means, describe, label, hierarchy.
/// With a previous run, clusters are matched to its topics so ids (and labels) survive the refit.
enum FullRun {
    /// Embed → PCA → k-means → describe: everything of a full run that spends no money (with the
    /// MiniLM or `field:` embedders), so `strata estimate` can build the run's exact prompts.
    struct Fit {
        var embedding: EmbeddingResult
        var pca: PCA
        var explained: Double
        /// Unit rows in the reduced space.
        var y: Matrix
        var model: KMeansModel
        /// Cluster of each document, clusters indexed by size (largest first).
        var cluster: [Int]
        /// k-means centroid row of each cluster index.
        var order: [Int]
        var k: Int
        var description: TopicDescription
        var curve: [RunManifest.CurvePoint]
        var selection: String
    }

    static func fit(_ options: RunOptions, documents docs: [Document], previous: PreviousRun?, state: StateDatabase,
                    reporter: RunReporter, laps: Pipeline.Laps) async throws -> Fit {
        reporter.stage("embed")
        let embedding = try await EmbeddingStage.embed(docs, spec: options.embedder, baseURL: options.embeddingBaseURL,
                                                       state: state, tokenCounter: PromptTokens.textCount,
                                                       reporter: reporter, store: options.dryRun?.storeEmbeddings ?? true)
        laps.lap("embed")

        try Task.checkCancellation()
        reporter.stage("reduce (PCA)")
        let x = embedding.matrix
        let maxComponents = max(1, min(options.pcaMaxComponents, x.cols, docs.count - 1))
        let pca = try PCA.fit(x, components: .varianceFraction(options.pcaVariance, max: maxComponents))
        // Unit-length rows in the reduced space and spherical k-means: on the shipped corpora this
        // beats Euclidean k-means on the raw or reduced vectors (scripts/eval/quality.sh).
        let y = try pca.transform(x).normalizedRows()
        let explained = pca.explainedVarianceRatio.reduce(0, +)
        reporter.info("\(pca.outputDimension) components, \(String(format: "%.1f", explained * 100))% of variance")
        laps.lap("pca")

        try Task.checkCancellation()
        reporter.stage("cluster (k-means)")
        var base = KMeans.Options(k: 2)
        base.seed = options.seed
        base.restarts = options.restarts
        base.metric = .cosine
        var model: KMeansModel
        var curve: [RunManifest.CurvePoint] = []
        var selection: String
        if let previous, !options.coldStart, y.rows <= KMeans.miniBatchThreshold, previous.model.fingerprint == embedding.fingerprint,
           let start = try warmStart(y, pca: pca, previous: previous, k: options.k, documents: docs.count) {
            // Seeded from the previous topics: a refit moves the centroids where the data went instead
            // of jumping to another of k-means' many near-equivalent optima, so ids and labels survive.
            base.k = start.rows
            base.initialization = .centroids(start)
            base.restarts = 1
            model = try KMeans.fit(y, options: base)
            selection = "warm start from the previous \(previous.model.topicIDs.count) topics" + ({ if case .fixed = options.k { return " (k fixed)" }; return "" })()
        } else {
        // Documents with identical text share one vector: k-means cannot find more clusters than that
        // (Pipeline.checkVariety refused fewer than 2, or a fixed k above it, before anything ran).
        let distinct = Set(docs.map(\.contentHash)).count
        switch options.k {
        case .fixed(let k):
            guard k <= docs.count else {
                throw StrataError(.usage, "--k \(k) exceeds the number of documents (\(docs.count))")
            }
            base.k = k
            model = try KMeans.fitAuto(y, options: base)
            selection = "fixed"
        case .auto:
            let range = RunOptions.autoRange(documents: docs.count, distinct: distinct)
            var scan = base
            scan.restarts = 1
            let chosen = try ChooseK.choose(y, range: range, base: scan, sampleSize: 5_000) { done, total in
                reporter.progress("choose k", done: done, total: total)
            }
            curve = chosen.curve.map { .init(k: $0.k, silhouetteSampled: $0.sampledSilhouette, simplifiedSilhouette: $0.simplifiedSilhouette) }
            // The final fit on all rows starts from the chosen sample fit's centroids (a uniform
            // sample's centroids are a good start: fewer Lloyd iterations and no k-means++ pass here).
            base.k = chosen.best
            base.initialization = .centroids(chosen.model.centroids)
            base.restarts = 1
            model = try KMeans.fitAuto(y, options: base)
            selection = "auto: max sampled silhouette over \(range.lowerBound)…\(range.upperBound)"
        }
        }
        reporter.info("k = \(model.k), inertia \(String(format: "%.4g", model.inertia)), \(model.iterations) iterations")
        laps.lap("kmeans")

        // Clusters ordered by size (largest first) are indexed 0…k−1.
        var sizes = [Int](repeating: 0, count: model.k)
        for l in model.labels { sizes[l] += 1 }
        let order = (0..<model.k).filter { sizes[$0] > 0 }.sorted { sizes[$0] > sizes[$1] || (sizes[$0] == sizes[$1] && $0 < $1) }
        var remap = [Int](repeating: -1, count: model.k)
        for (newIndex, old) in order.enumerated() { remap[old] = newIndex }
        let cluster = model.labels.map { remap[$0] }
        let k = order.count

        try Task.checkCancellation()
        reporter.stage("describe topics")
        let description = Describe.run(documents: docs, embeddings: x, labels: cluster, k: k)
        laps.lap("describe")
        return Fit(embedding: embedding, pca: pca, explained: explained, y: y, model: model, cluster: cluster, order: order, k: k,
                   description: description, curve: curve, selection: selection)
    }

    static func run(_ options: RunOptions, runID: String, documents docs: [Document], previous: PreviousRun?, reason: String,
                    state: StateDatabase, reporter: RunReporter, laps: Pipeline.Laps) async throws -> RunOutcome {
        var options = options
        if let previous, Pipeline.labelerChanged(options, previous: previous) { options.relabel = true }
        let f = try await fit(options, documents: docs, previous: previous, state: state, reporter: reporter, laps: laps)
        let (embedding, pca, explained, y, model, cluster, order, k, description, curve, selection) =
            (f.embedding, f.pca, f.explained, f.y, f.model, f.cluster, f.order, f.k, f.description, f.curve, f.selection)
        let x = embedding.matrix

        // Topic ids: matched to the previous run's topics, or 0…k−1 by size on a first run.
        var idOfCluster = Array(0..<k)
        var previousOfCluster = [Int?](repeating: nil, count: k)
        var membershipJaccard = [Double?](repeating: nil, count: k)
        var nextID = k
        var drift = Drift(previousRun: previous?.document.run.id, mode: "full", refitReason: reason, new: Array(0..<k),
                          documentsNew: docs.count)
        if let previous {
            // Centroids of another embedder live in another space: then only membership overlap counts.
            var prevCentroids = try previous.model.embedding()
            if previous.model.fingerprint != embedding.fingerprint || prevCentroids.cols != description.centroids.cols {
                prevCentroids = Matrix(rows: previous.model.topicIDs.count, cols: description.centroids.cols)
            }
            let stability = try Stability.match(
                previous: .init(ids: previous.model.topicIDs, centroids: prevCentroids,
                                topicOfDocument: previous.recorded.mapValues(\.topic), nextID: previous.nextID),
                centroids: description.centroids,
                clusterOfDocument: Dictionary(uniqueKeysWithValues: docs.enumerated().map { ($1.id, cluster[$0]) }))
            idOfCluster = stability.idOfCluster
            previousOfCluster = stability.previousOfCluster
            membershipJaccard = stability.membershipJaccard
            nextID = stability.nextID
            var new = 0, changed = 0
            for d in docs {
                if let r = previous.recorded[d.id] { if r.hash != d.contentHash { changed += 1 } } else { new += 1 }
            }
            let current = Set(docs.map(\.id))
            drift = Drift(previousRun: previous.document.run.id, mode: "full", refitReason: reason, matched: stability.matched,
                          new: stability.new, retired: stability.retired, splits: stability.splits, merges: stability.merges,
                          documentsChangedTopic: stability.documentsChangedTopic, documentsNew: new, documentsChanged: changed,
                          documentsRemoved: previous.recorded.keys.filter { !current.contains($0) }.count)
            reporter.info("ids: \(stability.matched.count) topics kept, \(stability.new.count) new, \(stability.retired.count) retired; "
                          + "\(stability.documentsChangedTopic) documents changed topic")
        }

        // Labels: matched topics keep theirs (unless --relabel) while their membership changed by at most
        // --relabel-share (1 − Jaccard of old and new documents), as in incremental runs; the rest are
        // asked for. A topic matched across a change of k or a large drift keeps its id but is relabelled.
        try Task.checkCancellation()
        reporter.stage("label topics (\(options.labeler))")
        let previousTopics = Dictionary(uniqueKeysWithValues: (previous?.document.topics ?? []).map { ($0.id, $0) })
        var labels = description.sketches.map(KeywordLabeler.label)
        var toLabel: [Int] = []
        var relabelledMatched: [Int] = []
        for c in 0..<k {
            let similar = (membershipJaccard[c] ?? 0) >= 1 - options.relabelShare
            if previousOfCluster[c] != nil && (!similar || options.relabel) { relabelledMatched.append(idOfCluster[c]) }
            if !options.relabel, similar, let p = previousOfCluster[c], let old = previousTopics[p] {
                let source: LabelSource = old.labelSource == .llm || old.labelSource == .llmRepaired ? .cache : old.labelSource
                labels[c] = TopicLabel(label: old.label, description: old.description, source: source)
            } else {
                toLabel.append(c)
            }
        }
        if toLabel.count < k { reporter.info("\(k - toLabel.count) topics keep their label; \(toLabel.count) to label") }
        drift.relabelled = relabelledMatched.sorted()
        var spend = LabelingResult(labels: [])
        let kept = Set((0..<k).filter { !toLabel.contains($0) })
        var context = VerificationContext(centroids: description.centroids, documents: VerificationContext.sample(x, row: cluster))
        for c in kept { context.fixed[c] = labels[c] }
        if !toLabel.isEmpty {
            let labeling = try await Labeling.run(toLabel.map { description.sketches[$0] }, rows: toLabel, context: context,
                                                  spec: options.labeler, options: options, state: state, reporter: reporter)
            for (i, c) in toLabel.enumerated() { labels[c] = labeling.labels[i] }
            spend = labeling
        }
        let before = labels
        disambiguate(&labels, sketches: description.sketches)
        for c in kept { labels[c] = before[c] }
        let confidence = try await Labeling.confidence(labels.map(\.label), centroids: description.centroids, options: options)
        laps.lap("label")

        try Task.checkCancellation()
        reporter.stage("hierarchy")
        let hierarchy = try await Hierarchy.build(description: description, labels: labels, documents: docs,
                                                  topicOfDocument: cluster, spec: options.labeler, options: options,
                                                  state: state, reporter: reporter)
        spend.addSpend(LabelingResult(labels: [], calls: hierarchy.calls, promptTokens: hierarchy.promptTokens,
                                      completionTokens: hierarchy.completionTokens, usage: hierarchy.usage))
        spend.warnings += hierarchy.warnings
        laps.lap("hierarchy")

        let quality = try Pipeline.qualityFigures(y, labels: cluster, model: model, seed: options.seed)

        // Assemble, in id order.
        var members = [[String]](repeating: [], count: k)
        for (i, c) in cluster.enumerated() { members[c].append(docs[i].id) }
        var topics: [Topic] = []
        for c in 0..<k {
            let id = idOfCluster[c]
            topics.append(Topic(id: id, label: labels[c].label, description: labels[c].description,
                                keywords: description.keywords[c], size: members[c].count,
                                share: Double(members[c].count) / Double(docs.count),
                                representativeIDs: description.representatives[c].map { docs[$0].id },
                                parentID: hierarchy.parentOfTopic[c], cohesion: description.cohesion[c],
                                labelSource: labels[c].source, labelConfidence: confidence?[c],
                                firstRun: previousOfCluster[c].flatMap { previousTopics[$0]?.firstRun } ?? runID,
                                documentIDs: members[c]))
        }
        topics.sort { $0.id < $1.id }
        let parents = hierarchy.parents.map { p in
            ParentTopic(id: p.id, label: p.label, description: p.description, children: p.children.map { idOfCluster[$0] }.sorted(),
                        labelSource: p.labelSource, labelConfidence: p.labelConfidence)
        }
        var sources: [String: Int] = [:]
        for t in topics { sources[t.labelSource.rawValue, default: 0] += 1 }
        for p in parents { sources[p.labelSource.rawValue, default: 0] += 1 }

        // The fitted model for incremental runs: centroids, radii.
        var reduced = [Float](repeating: 0, count: k * y.cols)
        for (c, old) in order.enumerated() {
            let r = model.centroids.row(old)
            var norm: Float = 0
            for v in r { norm += v * v }
            norm = max(norm.squareRoot(), 1e-12)
            for (j, v) in r.enumerated() { reduced[c * y.cols + j] = v / norm }
        }
        var distances = [[Float]](repeating: [], count: k)
        for i in 0..<docs.count {
            let c = cluster[i]
            var dot: Float = 0
            let row = y.row(i)
            var j = 0
            for v in row { dot += v * reduced[c * y.cols + j]; j += 1 }
            distances[c].append(1 - dot)
        }
        let fitted = FittedModel(
            fingerprint: embedding.fingerprint, fittedRun: runID, fittedAt: Pipeline.iso(), inputDimension: x.cols,
            reducedDimension: y.cols, pcaMean: FittedModel.pack(pca.mean), pcaComponents: FittedModel.pack(pca.components.storage),
            topicIDs: idOfCluster, reducedCentroids: FittedModel.pack(reduced),
            embeddingCentroids: FittedModel.pack(description.centroids.storage),
            distancePercentiles: distances.map(Similarity.percentiles),
            fittedDocuments: docs.count)

        let topicOfDocument = cluster.map { idOfCluster[$0] }
        let scores = description.scores.map(Double.init)
        let assignments = docs.enumerated().map { i, d in
            StateDatabase.Assignment(id: d.id, hash: d.contentHash, topic: topicOfDocument[i], score: scores[i],
                                     snippet: String(d.text.prefix(300)))
        }
        let manifest = RunManifest(
            id: runID, started: "", finished: "", strataVersion: strataVersion, source: "",
            counts: .init(documents: docs.count, skipped: 0, embedded: embedding.embedded, cached: embedding.cached,
                          embeddedTokens: embedding.tokens),
            embedder: .init(name: options.embedder.description, fingerprint: embedding.fingerprint, dimension: x.cols),
            pca: .init(components: pca.outputDimension, explainedVarianceRatio: explained),
            kmeans: .init(k: k, selection: selection, curve: curve, inertia: model.inertia, iterations: model.iterations,
                          restarts: options.restarts, seed: options.seed,
                          algorithm: y.rows > KMeans.miniBatchThreshold ? "mini-batch" : "lloyd"),
            labeler: try Pipeline.labelerInfo(options, spend, sources: sources, notes: spend.notes + hierarchy.notes),
            timings: [:], warnings: spend.warnings, mode: "full", refitReason: reason)
        return RunOutcome(topics: topics, hierarchy: parents, quality: quality, drift: drift, topicOfDocument: topicOfDocument,
                          scores: scores, assignments: .replaceAll(assignments), model: fitted, nextID: nextID,
                          manifest: manifest, usage: spend.usage.map { [$0] } ?? [])
    }

    /// Initial centres (k × p, unit rows) from the previous run's topics, projected into this fit's
    /// PCA space. k is `--k` when fixed, else the previous topic count. Previous topics are taken in
    /// order of how many current documents they attract (those attracting none are dropped); missing
    /// centres are added farthest-first. Nil when there is nothing to start from.
    static func warmStart(_ y: Matrix, pca: PCA, previous: PreviousRun, k choice: KChoice, documents: Int) throws -> Matrix? {
        let old = try previous.model.embedding()
        guard old.cols == pca.inputDimension, old.rows > 0 else { return nil }
        let k: Int
        switch choice {
        case .fixed(let n): k = n
        case .auto: k = old.rows
        }
        guard k >= 2, k <= documents else { return nil }
        let projected = try pca.transform(old).normalizedRows()
        let sims = Similarity.cosines(y, projected)
        var support = [Int](repeating: 0, count: old.rows)
        for i in 0..<y.rows {
            var best = 0
            for j in 1..<old.rows where sims[i, j] > sims[i, best] { best = j }
            support[best] += 1
        }
        var chosen = (0..<old.rows).filter { support[$0] > 0 }.sorted { support[$0] > support[$1] || (support[$0] == support[$1] && $0 < $1) }
        chosen = Array(chosen.prefix(k))
        var centres = chosen.flatMap { Array(projected.row($0)) }
        // Farthest-first for the rest: the row least similar to every centre so far.
        var nearest = [Float](repeating: -2, count: y.rows)
        for i in 0..<y.rows { for j in chosen { nearest[i] = max(nearest[i], sims[i, j]) } }
        while centres.count / y.cols < k {
            guard let far = (0..<y.rows).min(by: { nearest[$0] < nearest[$1] }) else { return nil }
            let row = Array(y.row(far))
            centres += row
            for i in 0..<y.rows {
                var dot: Float = 0
                for (a, b) in zip(y.row(i), row) { dot += a * b }
                nearest[i] = max(nearest[i], dot)
            }
        }
        return try Matrix(rows: k, cols: y.cols, storage: centres)
    }
}
