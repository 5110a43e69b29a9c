import Foundation
import StrataEmbed
import StrataLabel
import StrataLinalg
import StrataStore

/// An incremental run: diff the source against the state by id and content hash, embed only new and
/// changed documents, assign each to the nearest fitted topic in the fitted PCA space (or −1 beyond
/// that topic's novelty radius), and re-describe and relabel only topics whose membership changed
/// by more than `relabelShare`. Unchanged documents keep their topic; the fitted model is untouched.
enum Incremental {
    enum Result {
        case done(RunOutcome)
        /// Assignment showed a refit is due (too many documents without a topic).
        case refit(String)
    }

    static func run(_ options: RunOptions, runID: String, documents docs: [Document], previous: PreviousRun,
                    state: StateDatabase, reporter: RunReporter, laps: Pipeline.Laps) async throws -> Result {
        let assignOnly = options.mode == .assign
        // Diff.
        var fresh: [Int] = []          // new or changed, indices into docs
        var changedCount = 0
        for (i, d) in docs.enumerated() {
            if let r = previous.recorded[d.id] {
                if r.hash != d.contentHash { fresh.append(i); changedCount += 1 }
            } else {
                fresh.append(i)
            }
        }
        let current = Set(docs.map(\.id))
        let removed = previous.recorded.keys.filter { !current.contains($0) }.sorted()
        reporter.info("incremental: \(fresh.count - changedCount) new, \(changedCount) changed, \(removed.count) removed, "
                      + "\(docs.count - fresh.count) unchanged")

        // Embed and assign the new and changed documents.
        reporter.stage("embed")
        let embedding = try await EmbeddingStage.embed(fresh.map { docs[$0] }, spec: options.embedder, baseURL: options.embeddingBaseURL,
                                                       state: state, tokenCounter: PromptTokens.textCount,
                                                       reporter: reporter, store: options.dryRun?.storeEmbeddings ?? true)
        laps.lap("embed")
        reporter.stage("assign")
        let model = previous.model
        let ids = model.topicIDs
        let embeddingCentroids = try model.embedding()
        var topicOfDocument = [Int](repeating: -1, count: docs.count)
        var scores = [Double](repeating: 0, count: docs.count)
        for (i, d) in docs.enumerated() {
            if let r = previous.recorded[d.id], r.hash == d.contentHash { topicOfDocument[i] = r.topic; scores[i] = r.score }
        }
        if !fresh.isEmpty {
            let x = embedding.matrix
            guard x.cols == model.inputDimension else {
                throw StrataError(.failed, "new embeddings have \(x.cols) dimensions, the fitted model \(model.inputDimension); run `strata run --full`")
            }
            let y = try model.pca().transform(x).normalizedRows()
            let sims = Similarity.cosines(y, try model.reduced())
            let embSims = Similarity.cosines(x, embeddingCentroids)
            for (r, i) in fresh.enumerated() {
                var best = 0
                for j in 1..<max(1, ids.count) where sims[r, j] > sims[r, best] { best = j }
                let within = 1 - sims[r, best] <= model.radius(best, quantile: options.noveltyQuantile)
                topicOfDocument[i] = within ? ids[best] : -1
                scores[i] = Double(embSims[r, best])
            }
        }
        let unassigned = topicOfDocument.filter { $0 == -1 }.count
        let unassignedShare = Double(unassigned) / Double(docs.count)
        if !assignOnly && unassignedShare > options.refit.maxUnassignedShare {
            return .refit(String(format: "%.1f%% of documents have no topic after assignment (limit %.0f%%)",
                                 unassignedShare * 100, options.refit.maxUnassignedShare * 100))
        }
        laps.lap("assign")

        // Which topics changed enough to re-describe.
        var oldSize: [Int: Int] = [:], moved: [Int: Int] = [:]
        for (_, r) in previous.recorded { oldSize[r.topic, default: 0] += 1 }
        var changedTopic = 0
        for i in fresh {
            let old = previous.recorded[docs[i].id]?.topic
            let now = topicOfDocument[i]
            if let old { moved[old, default: 0] += 1; if old != now { changedTopic += 1 } }
            if old != now { moved[now, default: 0] += 1 }
        }
        for id in removed { moved[previous.recorded[id]!.topic, default: 0] += 1 }
        let freshIDs = Set(fresh.map { docs[$0].id })
        let goneIDs = Set(removed).union(freshIDs)
        var redo: [Int] = []
        if !assignOnly {
            for t in previous.document.topics {
                let share = Double(moved[t.id, default: 0]) / Double(max(1, oldSize[t.id, default: 0]))
                if share > options.relabelShare || t.representativeIDs.contains(where: goneIDs.contains) { redo.append(t.id) }
            }
        }

        // Members of every topic, in source order.
        var members: [Int: [Int]] = [:]
        for (i, t) in topicOfDocument.enumerated() where t >= 0 { members[t, default: []].append(i) }
        // Labels carried over cost nothing this run: LLM labels read as `cache`.
        var topics = previous.document.topics.map { t in
            var t = t
            if t.labelSource == .llm || t.labelSource == .llmRepaired { t.labelSource = .cache }
            return t
        }
        let rowOfID = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        var spend = LabelingResult(labels: [])
        if !redo.isEmpty {
            reporter.stage("describe \(redo.count) changed topic(s)")
            // c-TF-IDF over every assigned document (the class-based IDF needs all classes).
            let assigned = (0..<docs.count).filter { topicOfDocument[$0] >= 0 }
            let dense = Dictionary(uniqueKeysWithValues: topics.enumerated().map { ($1.id, $0) })
            let minDF = assigned.count >= 1000 ? 3 : 2
            let keywords = ClassTFIDF.keywords(texts: assigned.map { docs[$0].text }, labels: assigned.map { dense[topicOfDocument[$0]]! },
                                               classCount: topics.count, count: 10, minDocumentFrequency: minDF).map { $0.map(\.term) }
            var sketches: [TopicSketch] = []
            // Member vectors of every topic to re-describe, in one pass through the cache (one embedder load).
            let redoMembers = redo.flatMap { members[$0] ?? [] }
            let memberVectors = try await EmbeddingStage.embed(redoMembers.map { docs[$0] }, spec: options.embedder, baseURL: options.embeddingBaseURL,
                                                     state: state, tokenCounter: nil, reporter: SilentReporter()).matrix
            var offset = 0
            for (n, id) in redo.enumerated() {
                let t = dense[id]!
                let m = members[id] ?? []
                let vectors = memberVectors.gathering(rows: Array(offset..<(offset + m.count)))
                offset += m.count
                let c = embeddingCentroids.row(rowOfID[id]!)
                let sims = (0..<m.count).map { r -> Float in
                    var dot: Float = 0
                    for (a, b) in zip(vectors.row(r), c) { dot += a * b }
                    return dot
                }
                let picked = Representatives.select(similarities: sims, vectors: vectors.storage, dimension: vectors.cols, count: 5)
                topics[t].keywords = keywords[t]
                topics[t].representativeIDs = picked.map { docs[m[$0]].id }
                topics[t].cohesion = sims.isEmpty ? 0 : Double(sims.reduce(0, +)) / Double(sims.count)
                // Contrast: the three nearest other topics by fitted centroid.
                let others = ids.filter { $0 != id }.map { o -> (Int, Float) in
                    var dot: Float = 0
                    for (a, b) in zip(embeddingCentroids.row(rowOfID[o]!), c) { dot += a * b }
                    return (o, dot)
                }.sorted { $0.1 > $1.1 }
                let contrast = others.prefix(3).compactMap { o in dense[o.0].map { topics[$0].keywords.prefix(4).joined(separator: ", ") } }
                    .filter { !$0.isEmpty }
                sketches.append(TopicSketch(index: n, keywords: keywords[t],
                                            representatives: picked.map { Describe.truncate(docs[m[$0]].text, words: Describe.representativeWords) },
                                            contrast: contrast, size: m.count))
            }
            laps.lap("describe")
            reporter.stage("label \(redo.count) changed topic(s) (\(options.labeler))")
            var context = VerificationContext(centroids: embeddingCentroids)
            let redoSet = Set(redo)
            for t in topics where !redoSet.contains(t.id) {
                if let r = rowOfID[t.id] { context.fixed[r] = TopicLabel(label: t.label, description: t.description, source: t.labelSource) }
            }
            let labeling = try await Labeling.run(sketches, rows: redo.map { rowOfID[$0]! }, context: context, spec: options.labeler,
                                                  options: options, state: state, reporter: reporter)
            spend = labeling
            // Keep labels unique across all topics; only the relabelled ones may change.
            var all = topics.map { TopicLabel(label: $0.label, description: $0.description, source: $0.labelSource) }
            var allSketches = topics.enumerated().map { n, t in
                TopicSketch(index: n, keywords: t.keywords, representatives: [], contrast: [], size: t.size)
            }
            for (n, id) in redo.enumerated() {
                all[dense[id]!] = labeling.labels[n]
                allSketches[dense[id]!] = sketches[n]
            }
            disambiguate(&all, sketches: allSketches)
            let redone = Set(redo.map { dense[$0]! })
            for n in all.indices where redone.contains(n) {
                topics[n].label = all[n].label; topics[n].description = all[n].description; topics[n].labelSource = all[n].source
            }
            if let confidence = labeling.confidence {
                for (i, id) in redo.enumerated() { topics[dense[id]!].labelConfidence = confidence[i] }
            }
            laps.lap("label")
        }
        for n in topics.indices {
            let m = members[topics[n].id] ?? []
            topics[n].size = m.count
            topics[n].share = Double(m.count) / Double(docs.count)
            topics[n].documentIDs = m.map { docs[$0].id }
            topics[n].representativeIDs.removeAll(where: goneIDs.contains)
        }

        let upsert = fresh.map { i in
            StateDatabase.Assignment(id: docs[i].id, hash: docs[i].contentHash, topic: topicOfDocument[i], score: scores[i],
                                     snippet: String(docs[i].text.prefix(300)))
        }
        let drift = Drift(previousRun: previous.document.run.id, mode: assignOnly ? "assign" : "incremental",
                          matched: ids.sorted(), documentsChangedTopic: changedTopic, documentsNew: fresh.count - changedCount,
                          documentsChanged: changedCount, documentsRemoved: removed.count, documentsUnassigned: unassigned,
                          relabelled: redo.sorted())
        let hierarchy = previous.document.hierarchy.map { p in
            var p = p
            if p.labelSource == .llm || p.labelSource == .llmRepaired { p.labelSource = .cache }
            return p
        }
        var sources: [String: Int] = [:]
        for t in topics { sources[t.labelSource.rawValue, default: 0] += 1 }
        for p in hierarchy { sources[p.labelSource.rawValue, default: 0] += 1 }
        var manifest = previous.document.run
        manifest.id = runID
        manifest.counts = .init(documents: docs.count, skipped: 0, embedded: embedding.embedded, cached: docs.count - embedding.embedded,
                                embeddedTokens: embedding.tokens)
        manifest.labeler = try Pipeline.labelerInfo(options, spend, sources: sources, notes: spend.notes)
        manifest.warnings = spend.warnings
        manifest.mode = drift.mode
        manifest.refitReason = nil
        manifest.strataVersion = strataVersion
        reporter.info("\(fresh.count) assigned (\(unassigned) without a topic in all), \(redo.count) topic(s) re-described")
        var quality = previous.document.quality
        quality.evaluation = nil   // an evaluation describes the run it was made on
        return .done(RunOutcome(topics: topics, hierarchy: hierarchy, quality: quality,
                                drift: drift, topicOfDocument: topicOfDocument, scores: scores,
                                assignments: .delta(upsert: upsert, delete: removed), model: nil, nextID: previous.nextID,
                                manifest: manifest, usage: spend.usage.map { [$0] } ?? []))
    }
}
