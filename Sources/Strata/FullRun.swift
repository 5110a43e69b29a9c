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
        /// With `--seed-topics`: k-means centroid row i grew from seed i (rows 0…count−1).
        var seeds = 0
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
        var seeds: Matrix?
        if !options.seedTopics.isEmpty {
            if case .field = options.embedder { throw StrataError(.usage, "--seed-topics needs a text embedder (minilm or openai:MODEL)") }
            let texts = options.seedTopics.enumerated().map { i, s in Document(id: "seed-\(i)", text: s.label + (s.description.map { ". " + $0 } ?? "")) }
            seeds = try await EmbeddingStage.embed(texts, spec: options.embedder, baseURL: options.embeddingBaseURL, state: state,
                                                   tokenCounter: nil, reporter: SilentReporter(), store: false).matrix
        }
        let fingerprint = embedding.fingerprint, seedRows = seeds
        let (model, curve, selection) = try await StopFlag.whileRunning { stop in
            try Self.cluster(y, pca: pca, options: options, documents: docs, previous: previous, fingerprint: fingerprint,
                        seeds: seedRows, stop: stop, reporter: reporter)
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
                   description: description, curve: curve, selection: selection, seeds: seeds?.rows ?? 0)
    }

    /// Spherical k-means on the unit reduced rows `y`: warm-started from the previous topics when a
    /// refit allows it, else with `--k` fixed or k chosen by the sampled silhouette over the auto range.
    /// - Returns: the model, the silhouette curve (auto k only) and how k was chosen.
    static func cluster(_ y: Matrix, pca: PCA, options: RunOptions, documents docs: [Document], previous: PreviousRun?,
                        fingerprint: String, seeds: Matrix?, stop: StopFlag? = nil,
                        reporter: RunReporter) throws -> (KMeansModel, [RunManifest.CurvePoint], String) {
        var base = KMeans.Options(k: 2)
        base.stop = stop
        base.seed = options.seed
        base.restarts = options.restarts
        base.metric = .cosine
        if let seeds { return try seeded(y, pca: pca, seeds: seeds, base: base, options: options, documents: docs, reporter: reporter) }
        if let previous, !options.coldStart, y.rows <= KMeans.miniBatchThreshold, previous.model.fingerprint == fingerprint,
           let start = try warmStart(y, pca: pca, previous: previous, k: options.k, documents: docs.count) {
            // Seeded from the previous topics: a refit moves the centroids where the data went instead
            // of jumping to another of k-means' many near-equivalent optima, so ids and labels survive.
            base.k = start.rows
            base.initialization = .centroids(start)
            base.restarts = 1
            let fixed: String = { if case .fixed = options.k { return " (k fixed)" }; return "" }()
            return (try KMeans.fit(y, options: base), [], "warm start from the previous \(previous.model.topicIDs.count) topics" + fixed)
        }
        // Documents with identical text share one vector: k-means cannot find more clusters than that
        // (Pipeline.checkVariety refused fewer than 2, or a fixed k above it, before anything ran).
        switch options.k {
        case .fixed(let k):
            guard k <= docs.count else {
                throw StrataError(.usage, "--k \(k) exceeds the number of documents (\(docs.count))")
            }
            base.k = k
            return (try KMeans.fitAuto(y, options: base), [], "fixed")
        case .auto:
            let (chosen, curve, range) = try chooseK(y, base: base, documents: docs, reporter: reporter)
            // The final fit on all rows starts from the chosen sample fit's centroids (a uniform
            // sample's centroids are a good start: fewer Lloyd iterations and no k-means++ pass here).
            base.k = chosen.best
            base.initialization = .centroids(chosen.model.centroids)
            base.restarts = 1
            return (try KMeans.fitAuto(y, options: base), curve, "auto: max sampled silhouette over \(range.lowerBound)…\(range.upperBound)")
        }
    }

    /// `--k auto`: the sampled-silhouette scan over the auto range (one restart per candidate), its curve
    /// for the run record, and the range scanned.
    static func chooseK(_ y: Matrix, base: KMeans.Options, documents docs: [Document], reporter: RunReporter) throws
        -> (result: ChooseK.Result, curve: [RunManifest.CurvePoint], range: ClosedRange<Int>) {
        let range = RunOptions.autoRange(documents: docs.count, distinct: Set(docs.map(\.contentHash)).count)
        var scan = base
        scan.restarts = 1
        let chosen = try ChooseK.choose(y, range: range, base: scan, sampleSize: 5_000) { done, total in
            reporter.progress("choose k", done: done, total: total)
        }
        let curve = chosen.curve.map { RunManifest.CurvePoint(k: $0.k, silhouetteSampled: $0.sampledSilhouette,
                                                              simplifiedSilhouette: $0.simplifiedSilhouette) }
        return (chosen, curve, range)
    }

    /// k-means started from the seed topics (then farthest-first to k; k auto is chosen as usual first).
    static func seeded(_ y: Matrix, pca: PCA, seeds: Matrix, base: KMeans.Options, options: RunOptions, documents docs: [Document],
                       reporter: RunReporter) throws -> (KMeansModel, [RunManifest.CurvePoint], String) {
        var base = base, k: Int, curve: [RunManifest.CurvePoint] = []
        switch options.k {
        case .fixed(let n): k = n
        case .auto:
            let chosen = try chooseK(y, base: base, documents: docs, reporter: reporter)
            curve = chosen.curve
            k = chosen.result.best
        }
        guard let start = try seededStart(y, pca: pca, seeds: seeds, k: k), start.rows <= y.rows else {
            throw StrataError(.usage, "--seed-topics: \(seeds.rows) seeds and k = \(k) need at least as many documents")
        }
        base.k = start.rows
        base.initialization = .centroids(start)
        base.restarts = 1
        return (try KMeans.fit(y, options: base), curve, "seeded from \(seeds.rows) topics, k = \(start.rows)")
    }

    static func run(_ options: RunOptions, runID: String, documents docs: [Document], previous: PreviousRun?, diff: CorpusDiff,
                    reason: String, state: StateDatabase, reporter: RunReporter, laps: Pipeline.Laps) async throws -> RunOutcome {
        var options = options
        if let previous, RunPlan.labelerChanged(options, previous: previous) { options.relabel = true }
        let f = try await fit(options, documents: docs, previous: previous, state: state, reporter: reporter, laps: laps)
        var ids = try IDMatch(f, documents: docs, previous: previous, diff: diff, reason: reason)
        if previous != nil {
            let d = ids.drift
            reporter.info("ids: \(d.matched.count) topics kept, \(d.new.count) new, \(d.retired.count) retired; "
                          + "\(d.documentsChangedTopic) documents changed topic")
        }

        try Task.checkCancellation()
        reporter.stage("label topics (\(options.labeler))")
        let carry = LabelCarryOver(ids, previousTopics: previous?.document.topics ?? [], relabel: options.relabel,
                                   relabelShare: options.relabelShare)
        if carry.toLabel.count < f.k { reporter.info("\(f.k - carry.toLabel.count) topics keep their label; \(carry.toLabel.count) to label") }
        ids.drift.relabelled = carry.relabelledMatched
        let (labels, confidence, labelSpend) = try await label(f, carry: carry, documents: docs, options: options, state: state, reporter: reporter)
        var spend = labelSpend
        laps.lap("label")

        try Task.checkCancellation()
        reporter.stage("hierarchy")
        let hierarchy = try await Hierarchy.build(description: f.description, labels: labels, documents: docs,
                                                  topicOfDocument: f.cluster, spec: options.labeler, options: options,
                                                  state: state, reporter: reporter)
        spend.addSpend(LabelingResult(labels: [], calls: hierarchy.calls, promptTokens: hierarchy.promptTokens,
                                      completionTokens: hierarchy.completionTokens, usage: hierarchy.usage))
        spend.warnings += hierarchy.warnings
        spend.notes += hierarchy.notes
        laps.lap("hierarchy")

        let quality = try Pipeline.qualityFigures(f.y, labels: f.cluster, model: f.model, seed: options.seed)
        // Parents share the topics' id space: they take the next unused ids, so every topic_parent_id
        // names exactly one row of strata_topics (ids are never reused; a refit numbers parents anew).
        let parentBase = ids.nextID
        ids.nextID += hierarchy.parents.count
        let topics = assembleTopics(f, ids: ids, labels: labels, confidence: confidence,
                                    parentOfTopic: hierarchy.parentOfTopic.map { $0.map { parentBase + $0 } },
                                    previousTopics: previous?.document.topics ?? [], documents: docs, runID: runID)
        let parents = hierarchy.parents.map { p in
            ParentTopic(id: parentBase + p.id, label: p.label, description: p.description,
                        children: p.children.map { ids.idOfCluster[$0] }.sorted(), labelSource: p.labelSource, labelConfidence: p.labelConfidence)
        }
        let topicOfDocument = f.cluster.map { ids.idOfCluster[$0] }
        let scores = f.description.scores.map(Double.init)
        let assignments = docs.enumerated().map { i, d in
            StateDatabase.Assignment(id: d.id, hash: d.contentHash, topic: topicOfDocument[i], score: scores[i],
                                     snippet: String(d.text.prefix(300)))
        }
        // Seed topics: the topic each seed grew into takes its label, kept like a rename.
        var seedLabels: [Int: Curation.Rename] = [:]
        for i in 0..<f.seeds { if let c = f.order.firstIndex(of: i) { seedLabels[ids.idOfCluster[c]] = options.seedTopics[i] } }
        let manifest = self.manifest(f, options: options, runID: runID, documents: docs.count, reason: reason,
                                         labeler: try Pipeline.labelerInfo(options, spend, sources: LabelSource.tally(topics, parents),
                                                                           notes: spend.notes),
                                         warnings: spend.warnings)
        return RunOutcome(topics: topics, hierarchy: parents, quality: quality, drift: ids.drift, topicOfDocument: topicOfDocument,
                          scores: scores, assignments: .replaceAll(assignments),
                          model: fittedModel(f, topicIDs: ids.idOfCluster, runID: runID), nextID: ids.nextID,
                          manifest: manifest, usage: spend.usage.map { [$0] } ?? [], seedLabels: seedLabels)
    }

    /// Labels every cluster: carried-over labels as they were, the rest from the labeler (verified),
    /// all unique; with each label's verification margin (nil when labels cannot be embedded).
    static func label(_ f: Fit, carry: LabelCarryOver, documents docs: [Document], options: RunOptions, state: StateDatabase,
                      reporter: RunReporter) async throws -> ([TopicLabel], [Double]?, LabelingResult) {
        var labels = f.description.sketches.map(KeywordLabeler.label)
        for (c, l) in carry.kept { labels[c] = l }
        var spend = LabelingResult(labels: [])
        var context = VerificationContext(centroids: f.description.centroids,
                                          documents: VerificationContext.sample(f.embedding.matrix, row: f.cluster))
        for (c, l) in carry.kept { context.fixed[c] = l }
        if !carry.toLabel.isEmpty {
            let labeling = try await Labeling.run(carry.toLabel.map { f.description.sketches[$0] }, rows: carry.toLabel, context: context,
                                                  spec: options.labeler, options: options, state: state, reporter: reporter)
            for (i, c) in carry.toLabel.enumerated() { labels[c] = labeling.labels[i] }
            spend = labeling
        }
        let before = labels
        disambiguate(&labels, sketches: f.description.sketches)
        for c in carry.kept.keys { labels[c] = before[c] }
        let confidence = try await Labeling.confidence(labels.map(\.label), centroids: f.description.centroids, options: options)
        return (labels, confidence, spend)
    }

    /// The topics in id order, each with its label, keywords, members and lineage.
    static func assembleTopics(_ f: Fit, ids: IDMatch, labels: [TopicLabel], confidence: [Double]?, parentOfTopic: [Int?],
                               previousTopics: [Topic], documents docs: [Document], runID: String) -> [Topic] {
        let previousByID = Dictionary(uniqueKeysWithValues: previousTopics.map { ($0.id, $0) })
        var members = [[String]](repeating: [], count: f.k)
        for (i, c) in f.cluster.enumerated() { members[c].append(docs[i].id) }
        let d = f.description
        return (0..<f.k).map { c in
            Topic(id: ids.idOfCluster[c], label: labels[c].label, description: labels[c].description,
                  keywords: d.keywords[c], size: members[c].count, share: Double(members[c].count) / Double(docs.count),
                  representativeIDs: d.representatives[c].map { docs[$0].id }, parentID: parentOfTopic[c], cohesion: d.cohesion[c],
                  labelSource: labels[c].source, labelConfidence: confidence?[c],
                  firstRun: ids.previousOfCluster[c].flatMap { previousByID[$0]?.firstRun } ?? runID,
                  documentIDs: members[c],
                  labelOrigin: labels[c].source == .cache
                      ? ids.previousOfCluster[c].flatMap { previousByID[$0] }.map { $0.labelOrigin ?? $0.labelSource } ?? .cache
                      : labels[c].source)
        }.sorted { $0.id < $1.id }
    }

    /// The fitted model incremental runs assign with: PCA, unit centroids in both spaces, and the
    /// percentiles of each topic's member distances (its novelty radius).
    static func fittedModel(_ f: Fit, topicIDs: [Int], runID: String) -> FittedModel {
        let reduced = Similarity.unitRows(f.model.centroids, f.order)
        let dots = Similarity.assignedDots(f.y, reduced, assignment: f.cluster)
        var distances = [[Float]](repeating: [], count: f.k)
        for (i, c) in f.cluster.enumerated() { distances[c].append(1 - dots[i]) }
        return FittedModel(
            fingerprint: f.embedding.fingerprint, fittedRun: runID, fittedAt: Pipeline.iso(), inputDimension: f.embedding.matrix.cols,
            reducedDimension: f.y.cols, pcaMean: FittedModel.pack(f.pca.mean), pcaComponents: FittedModel.pack(f.pca.components.storage),
            topicIDs: topicIDs, reducedCentroids: FittedModel.pack(reduced.storage),
            embeddingCentroids: FittedModel.pack(f.description.centroids.storage),
            distancePercentiles: distances.map(Similarity.percentiles),
            fittedDocuments: f.cluster.count)
    }

    /// The run record of a full fit (times, source and skipped counts are filled in by the pipeline).
    static func manifest(_ f: Fit, options: RunOptions, runID: String, documents: Int, reason: String,
                         labeler: RunManifest.LabelerInfo, warnings: [String]) -> RunManifest {
        RunManifest(
            id: runID, started: "", finished: "", strataVersion: strataVersion, source: "",
            counts: .init(documents: documents, skipped: 0, embedded: f.embedding.embedded, cached: f.embedding.cached,
                          embeddedTokens: f.embedding.tokens),
            embedder: .init(name: options.embedder.description, fingerprint: f.embedding.fingerprint, dimension: f.embedding.matrix.cols),
            pca: .init(components: f.pca.outputDimension, explainedVarianceRatio: f.explained),
            kmeans: .init(k: f.k, selection: f.selection, curve: f.curve, inertia: f.model.inertia, iterations: f.model.iterations,
                          restarts: options.restarts, seed: options.seed,
                          algorithm: f.y.rows > KMeans.miniBatchThreshold ? "mini-batch" : "lloyd"),
            labeler: labeler, timings: [:], warnings: warnings, mode: "full", refitReason: reason)
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
        for best in Similarity.nearest(sims) { support[best] += 1 }
        var chosen = (0..<old.rows).filter { support[$0] > 0 }.sorted { support[$0] > support[$1] || (support[$0] == support[$1] && $0 < $1) }
        chosen = Array(chosen.prefix(k))
        var centres = chosen.flatMap { Array(projected.row($0)) }
        // Farthest-first for the rest: the row least similar to every centre so far.
        var nearest = [Float](repeating: -2, count: y.rows)
        for i in 0..<y.rows { for j in chosen { nearest[i] = max(nearest[i], sims[i, j]) } }
        return try fillFarthest(y, centres: centres, nearest: nearest, k: k)
    }

    /// `centres` (unit rows, flattened) completed to `k` rows farthest-first: each time the row of `y`
    /// least similar to every centre so far (`nearest`: each row's best cosine to them). Nil when `y`
    /// has no rows. O(n·p·(k − start)).
    static func fillFarthest(_ y: Matrix, centres start: [Float], nearest start2: [Float], k: Int) throws -> Matrix? {
        var centres = start, nearest = start2
        while centres.count / y.cols < k {
            guard let far = (0..<y.rows).min(by: { nearest[$0] < nearest[$1] }) else { return nil }
            let row = Array(y.row(far))
            centres += row
            for i in 0..<y.rows { nearest[i] = max(nearest[i], Similarity.dot(y.row(i), row[...])) }
        }
        return try Matrix(rows: k, cols: y.cols, storage: centres)
    }

    /// Initial centres for `--seed-topics`: the seeds' embeddings projected into the fitted space (rows
    /// 0…s−1, so k-means centroid i is seed i's topic), then farthest-first to `k`.
    static func seededStart(_ y: Matrix, pca: PCA, seeds: Matrix, k: Int) throws -> Matrix? {
        let projected = try pca.transform(seeds).normalizedRows()
        let best = Similarity.cosines(y, projected)
        let nearest = (0..<y.rows).map { i in (0..<best.cols).map { best[i, $0] }.max() ?? -2 }
        return try fillFarthest(y, centres: projected.storage, nearest: nearest, k: max(k, seeds.rows))
    }
}
