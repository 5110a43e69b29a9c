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
        /// Every document's unit vector, in a spill the passes read slice by slice.
        var vectors: DocumentVectors
        var pca: PCA
        var explained: Double
        /// Documents k-means was fitted on (ascending; every document when the corpus is no larger
        /// than `--fit-sample`) and their unit rows in the reduced space.
        var sampleRows: [Int]
        var y: Matrix
        var model: KMeansModel
        /// Cluster of each document, clusters indexed by size (largest first).
        var cluster: [Int]
        /// k-means centroid row of each cluster index.
        var order: [Int]
        var k: Int
        var description: TopicDescription
        /// Each document's cosine to its cluster's unit centroid in the reduced space.
        var reducedCosine: [Float]
        /// Evenly spaced documents' unit embeddings, for label verification, and their clusters.
        var verification: (vectors: Matrix, row: [Int])
        var curve: [RunManifest.CurvePoint]
        var selection: String
        /// With `--seed-topics`: k-means centroid row i grew from seed i (rows 0…count−1).
        var seeds = 0
    }

    /// Embed → PCA → k-means → describe over vectors spilled to disk: PCA from a streamed covariance,
    /// k-means on a seeded sample of `--fit-sample` documents, then every document assigned, summed and
    /// scored slice by slice (``StreamedFit``), so memory does not grow with n·d.
    static func fit(_ options: RunOptions, documents docs: [Document], previous: PreviousRun?, state: StateDatabase,
                    reporter: RunReporter, laps: Pipeline.Laps) async throws -> Fit {
        reporter.stage("embed")
        let vectors = try await EmbeddingStage.spill(docs, spec: options.embedder, baseURL: options.embeddingBaseURL,
                                                     cache: state.embeddings, tokenCounter: PromptTokens.textCount, reporter: reporter,
                                                     store: options.dryRun?.storeEmbeddings ?? true, directory: options.stateDirectory)
        laps.lap("embed")

        try Task.checkCancellation()
        reporter.stage("reduce (PCA)")
        let pca = try StreamedFit.pca(vectors, variance: options.pcaVariance, maxComponents: options.pcaMaxComponents, reporter: reporter)
        let explained = pca.explainedVarianceRatio.reduce(0, +)
        reporter.info("\(pca.outputDimension) components, \(String(format: "%.1f", explained * 100))% of variance")
        // Unit-length rows in the reduced space and spherical k-means: on the shipped corpora this
        // beats Euclidean k-means on the raw or reduced vectors (scripts/eval/quality.sh).
        // At least 256 documents a centroid for the largest k considered: with fewer (fortunes, k = 43,
        // 116 a centroid) the sampled fit lost 0.009 NMI (BENCHMARKS.md, "Sampled fit").
        let sampleSize = max(options.fitSample, StreamedFit.documentsPerCentroid * ClusteringPolicy.candidates(options.k, documents: docs).upperBound)
        let sampleRows = StreamedFit.sample(count: docs.count, size: sampleSize, seed: options.seed)
        let y = try pca.transform(vectors.rows(sampleRows)).normalizedRows()
        laps.lap("pca")

        try Task.checkCancellation()
        reporter.stage("cluster (k-means)")
        if sampleRows.count < docs.count { reporter.info("k-means on a sample of \(sampleRows.count) of \(docs.count) documents (--fit-sample)") }
        let seeds = try await seedVectors(options, state: state)
        let (model, curve, selection) = try await StopFlag.whileRunning { stop in
            try ClusteringPolicy.cluster(y, pca: pca, options: options, documents: docs, previous: previous, fingerprint: vectors.fingerprint,
                        seeds: seeds, stop: stop, reporter: reporter)
        }
        reporter.info("k = \(model.k), inertia \(String(format: "%.4g", model.inertia)), \(model.iterations) iterations")
        laps.lap("kmeans")

        try Task.checkCancellation()
        if sampleRows.count < docs.count { reporter.stage("assign every document") }
        let assigned = try StreamedFit.assign(vectors, pca: pca, model: model, labels: sampleRows.count == docs.count ? model.labels : nil,
                                              reporter: reporter)
        let (order, cluster) = bySize(assigned.labels, k: model.k)
        let k = order.count
        laps.lap("assign")

        try Task.checkCancellation()
        reporter.stage("describe topics")
        let centroids = assigned.embeddingSums.gathering(rows: order).normalizedRows()   // as Similarity.unitCentroids
        let scores = try StreamedFit.scores(vectors, centroids: centroids, labels: cluster)
        let description = try Describe.run(documents: docs, labels: cluster, k: k, centroids: centroids, scores: scores, seed: options.seed,
                                           rows: vectors.rows)
        let picked = VerificationContext.sampleRows(docs.count)
        let verification = (try vectors.rows(picked), picked.map { cluster[$0] })
        laps.lap("describe")
        return Fit(vectors: vectors, pca: pca, explained: explained, sampleRows: sampleRows, y: y, model: model, cluster: cluster,
                   order: order, k: k, description: description, reducedCosine: assigned.reducedCosine,
                   verification: verification, curve: curve, selection: selection, seeds: seeds?.rows ?? 0)
    }

    /// With `--seed-topics`: the seeds' vectors (nil without).
    static func seedVectors(_ options: RunOptions, state: StateDatabase) async throws -> Matrix? {
        guard !options.seedTopics.isEmpty else { return nil }
        if case .field = options.embedder { throw StrataError(.usage, "--seed-topics needs a text embedder (minilm or openai:MODEL)") }
        let texts = options.seedTopics.enumerated().map { i, s in Document(id: "seed-\(i)", text: s.label + (s.description.map { ". " + $0 } ?? "")) }
        return try await EmbeddingStage.embed(texts, spec: options.embedder, baseURL: options.embeddingBaseURL, state: state,
                                              tokenCounter: nil, reporter: SilentReporter(), store: false).matrix
    }

    /// Clusters ordered by size (largest first, ties by index) and each row's cluster in that order;
    /// empty clusters are dropped.
    static func bySize(_ labels: [Int], k: Int) -> (order: [Int], cluster: [Int]) {
        var sizes = [Int](repeating: 0, count: k)
        for l in labels { sizes[l] += 1 }
        let order = (0..<k).filter { sizes[$0] > 0 }.sorted { sizes[$0] > sizes[$1] || (sizes[$0] == sizes[$1] && $0 < $1) }
        var remap = [Int](repeating: -1, count: k)
        for (newIndex, old) in order.enumerated() { remap[old] = newIndex }
        return (order, labels.map { remap[$0] })
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

        let quality = try Pipeline.qualityFigures(f.y, labels: f.sampleRows.map { f.cluster[$0] }, model: f.model, seed: options.seed)
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
        let assignments = Assignments.rows(docs, topics: topicOfDocument, scores: scores)
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
        var context = VerificationContext(centroids: f.description.centroids, documents: f.verification)
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
        let listed = TopicsDocument.listsMembers(documents: docs.count)
        var members = [[String]](repeating: [], count: f.k)
        var sizes = [Int](repeating: 0, count: f.k)
        for (i, c) in f.cluster.enumerated() {
            sizes[c] += 1
            if listed { members[c].append(docs[i].id) }
        }
        let d = f.description
        return (0..<f.k).map { c in
            Topic(id: ids.idOfCluster[c], label: labels[c].label, description: labels[c].description,
                  keywords: d.keywords[c], size: sizes[c], share: Double(sizes[c]) / Double(docs.count),
                  representativeIDs: d.representatives[c].map { docs[$0].id }, parentID: parentOfTopic[c], cohesion: d.cohesion[c],
                  labelSource: labels[c].source, labelConfidence: confidence?[c],
                  firstRun: ids.previousOfCluster[c].flatMap { previousByID[$0]?.firstRun } ?? runID,
                  documentIDs: listed ? members[c] : nil,
                  labelOrigin: labels[c].source == .cache
                      ? ids.previousOfCluster[c].flatMap { previousByID[$0] }.map { $0.labelOrigin ?? $0.labelSource } ?? .cache
                      : labels[c].source)
        }.sorted { $0.id < $1.id }
    }

    /// The fitted model incremental runs assign with: PCA, unit centroids in both spaces, and the
    /// percentiles of each topic's member distances (its novelty radius).
    static func fittedModel(_ f: Fit, topicIDs: [Int], runID: String) -> FittedModel {
        let reduced = Similarity.unitRows(f.model.centroids, f.order)
        var distances = [[Float]](repeating: [], count: f.k)
        for (i, c) in f.cluster.enumerated() { distances[c].append(1 - f.reducedCosine[i]) }
        return FittedModel(
            fingerprint: f.vectors.fingerprint, fittedRun: runID, fittedAt: Pipeline.iso(), inputDimension: f.vectors.dimension,
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
            counts: .init(documents: documents, skipped: 0, embedded: f.vectors.embedded, cached: f.vectors.cached,
                          embeddedTokens: f.vectors.tokens),
            embedder: .init(name: options.embedder.description, fingerprint: f.vectors.fingerprint, dimension: f.vectors.dimension),
            pca: .init(components: f.pca.outputDimension, explainedVarianceRatio: f.explained),
            kmeans: .init(k: f.k, selection: f.selection, curve: f.curve, inertia: f.model.inertia, iterations: f.model.iterations,
                          restarts: options.restarts, seed: options.seed,
                          algorithm: f.y.rows > KMeans.miniBatchThreshold ? "mini-batch" : "lloyd", fittedDocuments: f.y.rows),
            labeler: labeler, timings: [:], warnings: warnings, mode: "full", refitReason: reason)
    }
}
