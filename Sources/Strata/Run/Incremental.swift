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

    /// Topic (−1: none) and score of every document, in source order.
    struct Assignment {
        var topicOfDocument: [Int]
        var scores: [Double]
        var unassigned: Int { topicOfDocument.filter { $0 == -1 }.count }
    }

    static func run(_ options: RunOptions, runID: String, documents docs: [Document], previous: PreviousRun, diff: CorpusDiff,
                    state: StateDatabase, reporter: RunReporter, laps: Pipeline.Laps) async throws -> Result {
        let assignOnly = options.mode == .assign
        reporter.info("incremental: \(diff.new) new, \(diff.changed) changed, \(diff.removed.count) removed, \(diff.unchanged) unchanged")
        reporter.stage("embed")
        let embedding = try await EmbeddingStage.embed(diff.fresh.map { docs[$0] }, spec: options.embedder, baseURL: options.embeddingBaseURL,
                                                       state: state, tokenCounter: PromptTokens.textCount,
                                                       reporter: reporter, store: options.dryRun?.storeEmbeddings ?? true)
        laps.lap("embed")
        reporter.stage("assign")
        let assignment = try assign(embedding.matrix, documents: docs, previous: previous, diff: diff,
                                    noveltyQuantile: options.noveltyQuantile)
        let unassigned = assignment.unassigned
        let unassignedShare = Double(unassigned) / Double(docs.count)
        if !assignOnly && unassignedShare > options.refit.maxUnassignedShare {
            return .refit(String(format: "%.1f%% of documents have no topic after assignment (limit %.0f%%)",
                                 unassignedShare * 100, options.refit.maxUnassignedShare * 100))
        }
        laps.lap("assign")

        let change = TopicChange(previous: previous, documents: docs, diff: diff, topicOfDocument: assignment.topicOfDocument,
                                 relabelShare: assignOnly ? nil : options.relabelShare)
        var topics = previous.document.topics.map { t in
            var t = t
            t.labelOrigin = t.labelOrigin ?? t.labelSource
            t.labelSource = t.labelSource.carriedOver
            return t
        }
        var spend = LabelingResult(labels: [])
        if !change.redo.isEmpty {
            spend = try await redescribe(change.redo, topics: &topics, assignment: assignment, documents: docs, previous: previous,
                                         options: options, state: state, reporter: reporter, laps: laps)
        }
        let members = members(assignment.topicOfDocument)
        for n in topics.indices {
            let m = members[topics[n].id] ?? []
            topics[n].size = m.count
            topics[n].share = Double(m.count) / Double(docs.count)
            topics[n].documentIDs = TopicsDocument.memberIDs(m, of: docs)
            topics[n].representativeIDs.removeAll(where: change.goneIDs.contains)
        }
        reporter.info("\(diff.fresh.count) assigned (\(unassigned) without a topic in all), \(change.redo.count) topic(s) re-described")
        return .done(try outcome(options, runID: runID, documents: docs, previous: previous, diff: diff, assignment: assignment,
                             change: change, topics: topics, embedding: embedding, spend: spend))
    }

    /// Topics of unchanged documents as recorded; new and changed ones (rows of `x`, in `diff.fresh`
    /// order) go to the nearest fitted topic in the fitted PCA space, or −1 beyond its novelty radius.
    /// Scores are cosines to the topic's embedding-space centroid. O(f·k·(d + p)).
    static func assign(_ x: Matrix, documents docs: [Document], previous: PreviousRun, diff: CorpusDiff,
                       noveltyQuantile: Double) throws -> Assignment {
        var a = Assignment(topicOfDocument: [Int](repeating: -1, count: docs.count), scores: [Double](repeating: 0, count: docs.count))
        for (i, d) in docs.enumerated() {
            if let r = previous.recorded[d.id], r.sameText(as: d) { a.topicOfDocument[i] = r.topic; a.scores[i] = r.score }
        }
        guard !diff.fresh.isEmpty else { return a }
        for (r, c) in try NearestTopic(model: previous.model).choose(x, noveltyQuantile: noveltyQuantile).enumerated() {
            let i = diff.fresh[r]
            a.topicOfDocument[i] = c.within ? previous.model.topicIDs[c.best] : -1
            a.scores[i] = Double(c.score)
        }
        return a
    }

    /// Member document indices of each topic id, in source order (−1 left out).
    static func members(_ topicOfDocument: [Int]) -> [Int: [Int]] {
        var members: [Int: [Int]] = [:]
        for (i, t) in topicOfDocument.enumerated() where t >= 0 { members[t, default: []].append(i) }
        return members
    }

    /// Re-describes and relabels the topics in `redo` (keywords, representatives, cohesion, label),
    /// keeping every other topic's label; labels stay unique across all topics.
    static func redescribe(_ redo: [Int], topics: inout [Topic], assignment: Assignment, documents docs: [Document],
                           previous: PreviousRun, options: RunOptions, state: StateDatabase,
                           reporter: RunReporter, laps: Pipeline.Laps) async throws -> LabelingResult {
        reporter.stage("describe \(redo.count) changed topic(s)")
        let centroids = try previous.model.embedding()
        let sketches = try await sketch(redo, topics: &topics, assignment: assignment, documents: docs, centroids: centroids,
                                        topicIDs: previous.model.topicIDs, options: options, state: state)
        laps.lap("describe")
        reporter.stage("label \(redo.count) changed topic(s) (\(options.labeler))")
        let rowOfID = Dictionary(uniqueKeysWithValues: previous.model.topicIDs.enumerated().map { ($1, $0) })
        var context = VerificationContext(centroids: centroids)
        let redoSet = Set(redo)
        for t in topics where !redoSet.contains(t.id) {
            if let r = rowOfID[t.id] { context.fixed[r] = TopicLabel(label: t.label, description: t.description, source: t.labelSource) }
        }
        let labeling = try await Labeling.run(sketches, rows: redo.map { rowOfID[$0]! }, context: context, spec: options.labeler,
                                              options: options, state: state, reporter: reporter)
        applyLabels(labeling, redo: redo, sketches: sketches, topics: &topics)
        laps.lap("label")
        return labeling
    }

    /// Keywords (c-TF-IDF over every assigned document, or those of ``Describe/termSample``: the
    /// class-based IDF needs all classes),
    /// representatives and cohesion of each topic in `redo`, written into `topics`; returns the sketches
    /// the labeler reads.
    static func sketch(_ redo: [Int], topics: inout [Topic], assignment: Assignment, documents docs: [Document], centroids: Matrix,
                       topicIDs ids: [Int], options: RunOptions, state: StateDatabase) async throws -> [TopicSketch] {
        let topicOfDocument = assignment.topicOfDocument
        let assigned = Describe.termRows(count: docs.count, seed: options.seed).filter { topicOfDocument[$0] >= 0 }
        let dense = Dictionary(uniqueKeysWithValues: topics.enumerated().map { ($1.id, $0) })
        let rowOfID = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        let minDF = assigned.count >= 1000 ? 3 : 2
        let keywords = ClassTFIDF.keywords(texts: assigned.map { docs[$0].text }, labels: assigned.map { dense[topicOfDocument[$0]]! },
                                           classCount: topics.count, count: 10, minDocumentFrequency: minDF).map { $0.map(\.term) }
        let members = members(topicOfDocument)
        // Member vectors of every topic to re-describe, in one pass through the cache (one embedder load).
        let redoMembers = redo.flatMap { members[$0] ?? [] }
        let memberVectors = try await EmbeddingStage.embed(redoMembers.map { docs[$0] }, spec: options.embedder, baseURL: options.embeddingBaseURL,
                                                           state: state, tokenCounter: nil, reporter: SilentReporter()).matrix
        var sketches: [TopicSketch] = []
        var offset = 0
        for (n, id) in redo.enumerated() {
            let t = dense[id]!, m = members[id] ?? []
            let vectors = memberVectors.gathering(rows: Array(offset..<(offset + m.count)))
            offset += m.count
            let c = centroids.row(rowOfID[id]!)
            let sims = (0..<m.count).map { Similarity.dot(vectors.row($0), c) }
            let picked = Representatives.select(similarities: sims, vectors: vectors.storage, dimension: vectors.cols, count: 5)
            topics[t].keywords = keywords[t]
            topics[t].representativeIDs = picked.map { docs[m[$0]].id }
            topics[t].cohesion = sims.isEmpty ? 0 : Double(sims.reduce(0, +)) / Double(sims.count)
            // Contrast: the three nearest other topics by fitted centroid.
            let others = ids.filter { $0 != id }.map { o in (o, Similarity.dot(centroids.row(rowOfID[o]!), c)) }.sorted { $0.1 > $1.1 }
            let contrast = others.prefix(3).compactMap { o in dense[o.0].map { topics[$0].keywords.prefix(4).joined(separator: ", ") } }
                .filter { !$0.isEmpty }
            sketches.append(TopicSketch(index: n, keywords: keywords[t],
                                        representatives: picked.map { Describe.truncate(docs[m[$0]].text, words: Describe.representativeWords) },
                                        contrast: contrast, size: m.count))
        }
        return sketches
    }

    /// Writes the new labels of `redo` into `topics`, made unique against every topic's label (only the
    /// relabelled ones may change), with their confidences.
    static func applyLabels(_ labeling: LabelingResult, redo: [Int], sketches: [TopicSketch], topics: inout [Topic]) {
        let dense = Dictionary(uniqueKeysWithValues: topics.enumerated().map { ($1.id, $0) })
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
            topics[n].labelOrigin = all[n].source
        }
        if let confidence = labeling.confidence {
            for (i, id) in redo.enumerated() { topics[dense[id]!].labelConfidence = confidence[i] }
        }
    }

    /// The run's outcome: the state keeps the fitted model; assignments of new and changed documents are
    /// upserted and removed ones deleted.
    static func outcome(_ options: RunOptions, runID: String, documents docs: [Document], previous: PreviousRun, diff: CorpusDiff,
                        assignment: Assignment, change: TopicChange, topics: [Topic], embedding: EmbeddingResult,
                        spend: LabelingResult) throws -> RunOutcome {
        let upsert = diff.fresh.map { i in
            Assignments.row(docs[i], topic: assignment.topicOfDocument[i], score: assignment.scores[i])
        }
        let drift = Drift(previousRun: previous.document.run.id, mode: options.mode == .assign ? "assign" : "incremental",
                          matched: previous.model.topicIDs.sorted(), documentsChangedTopic: change.documentsChangedTopic,
                          documentsNew: diff.new, documentsChanged: diff.changed, documentsRemoved: diff.removed.count,
                          documentsUnassigned: assignment.unassigned, relabelled: change.redo.sorted())
        var hierarchy = previous.document.hierarchy.map { p in
            var p = p
            p.labelSource = p.labelSource.carriedOver
            return p
        }
        var topics = topics
        let nextID = separateParentIDs(topics: &topics, hierarchy: &hierarchy, nextID: previous.nextID)
        var manifest = previous.document.run
        manifest.id = runID
        manifest.counts = .init(documents: docs.count, skipped: 0, embedded: embedding.embedded, cached: docs.count - embedding.embedded,
                                embeddedTokens: embedding.tokens)
        manifest.labeler = try Pipeline.labelerInfo(options, spend, sources: LabelSource.tally(topics, hierarchy), notes: spend.notes)
        manifest.warnings = spend.warnings
        manifest.mode = drift.mode
        manifest.refitReason = nil
        manifest.strataVersion = strataVersion
        var quality = previous.document.quality
        quality.evaluation = nil   // an evaluation describes the run it was made on
        return RunOutcome(topics: topics, hierarchy: hierarchy, quality: quality,
                          drift: drift, topicOfDocument: assignment.topicOfDocument, scores: assignment.scores,
                          assignments: .delta(upsert: upsert, delete: diff.removed), model: nil, nextID: nextID,
                          manifest: manifest, usage: spend.usage.map { [$0] } ?? [])
    }
}

/// Which topics an incremental run re-describes: those whose membership moved by more than
/// `relabelShare` of their previous size (documents that left, joined, changed or were removed). A
/// topic that only lost a representative (changed or removed) keeps its label and drops that
/// representative: a label is what filters are built on, so it changes only when the topic did.
/// A pure decision over the diff and the new assignment.
struct TopicChange: Equatable {
    /// Topic ids to re-describe and relabel, in the previous document's topic order.
    var redo: [Int]
    /// Documents present before whose topic is now another one.
    var documentsChangedTopic: Int
    /// Ids of removed and changed documents (no longer representative of anything).
    var goneIDs: Set<String>

    /// - Parameter relabelShare: nil when nothing is relabelled (`strata assign`).
    init(previous: PreviousRun, documents docs: [Document], diff: CorpusDiff, topicOfDocument: [Int], relabelShare: Double?) {
        var oldSize: [Int: Int] = [:], moved: [Int: Int] = [:]
        for (_, r) in previous.recorded { oldSize[r.topic, default: 0] += 1 }
        documentsChangedTopic = 0
        for i in diff.fresh {
            let old = previous.recorded[docs[i].id]?.topic
            let now = topicOfDocument[i]
            if let old { moved[old, default: 0] += 1; if old != now { documentsChangedTopic += 1 } }
            if old != now { moved[now, default: 0] += 1 }
        }
        for id in diff.removed { moved[previous.recorded[id]!.topic, default: 0] += 1 }
        goneIDs = Set(diff.removed).union(diff.fresh.map { docs[$0].id })
        redo = []
        guard let relabelShare else { return }
        for t in previous.document.topics {
            let share = Double(moved[t.id, default: 0]) / Double(max(1, oldSize[t.id, default: 0]))
            if share > relabelShare { redo.append(t.id) }
        }
    }
}
