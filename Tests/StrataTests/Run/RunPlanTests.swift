import Foundation
@testable import Strata
import StrataLabel
import StrataLinalg
@testable import StrataStore
import Testing

/// The run's pure decisions, in process: the corpus diff, the refit-or-incremental plan (shared by
/// run, assign and estimate), which topics an incremental run re-describes, which labels a refit keeps,
/// and the id matching that keeps topic ids stable.

/// A previous run with `topics` (id → member document ids, each with hash "h-<id>"), fitted by `labeler`
/// with `fingerprint`, `ageDays` old.
func previousRun(_ topics: [Int: [String]], labeler: String = "keywords", fingerprint: String = "minilm:test",
                 ageDays: Double = 1, representatives: [Int: [String]] = [:],
                 sources: [Int: LabelSource] = [:]) -> PreviousRun {
    var recorded: [String: StateDatabase.RecordedDocument] = [:]
    for (t, ids) in topics { for id in ids { recorded[id] = .init(hash: "h-\(id)", topic: t, score: 0.5) } }
    let manifest = RunManifest(
        id: "run-prev", started: "", finished: "", strataVersion: strataVersion, source: "docs.jsonl",
        counts: .init(documents: recorded.count, skipped: 0, embedded: 0, cached: 0, embeddedTokens: 0),
        embedder: .init(name: "minilm", fingerprint: fingerprint, dimension: 2),
        pca: .init(components: 1, explainedVarianceRatio: 1),
        kmeans: .init(k: topics.count, selection: "fixed", curve: [], inertia: 0, iterations: 1, restarts: 1, seed: 42, algorithm: "lloyd"),
        labeler: .init(name: labeler, model: nil, calls: 0, promptTokens: 0, completionTokens: 0, costUSD: 0,
                       firstAttemptPromptTokens: 0, sources: [:], notes: []),
        timings: [:], warnings: [], mode: "full", refitReason: "first run")
    let ids = topics.keys.sorted()
    let published = ids.map { t in
        Topic(id: t, label: "topic \(t)", description: "", keywords: [], size: topics[t]!.count, share: 0,
              representativeIDs: representatives[t] ?? [], parentID: nil, cohesion: 0, labelSource: sources[t] ?? .keywords,
              labelConfidence: nil, firstRun: "run-prev", documentIDs: topics[t]!)
    }
    let fittedAt = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-ageDays * 86_400))
    let model = FittedModel(fingerprint: fingerprint, fittedRun: "run-prev", fittedAt: fittedAt, inputDimension: 2, reducedDimension: 1,
                            pcaMean: FittedModel.pack([0, 0]), pcaComponents: FittedModel.pack([1, 0]), topicIDs: ids,
                            reducedCentroids: FittedModel.pack(ids.map { _ in 1 }), embeddingCentroids: FittedModel.pack(ids.flatMap { _ in [1, 0] }),
                            distancePercentiles: ids.map { _ in [] }, fittedDocuments: recorded.count)
    let document = TopicsDocument(run: manifest, topics: published, hierarchy: [], quality: Quality(), drift: nil)
    return PreviousRun(document: document, documentData: Data(), model: model, recorded: recorded, nextID: (ids.max() ?? -1) + 1)
}

/// A document whose hash is "h-<id>" unless `changed` (then another hash).
func doc(_ id: String, changed: Bool = false) -> Document {
    Document(id: id, text: changed ? "changed \(id)" : "text \(id)")
}

/// Documents with the hashes `previousRun` records: the recorded hash is the text's, so rebuild it.
func recordedLike(_ previous: PreviousRun, _ docs: [Document]) -> PreviousRun {
    var p = previous
    for d in docs { if let r = p.recorded[d.id] { p.recorded[d.id] = .init(hash: d.contentHash, topic: r.topic, score: r.score) } }
    return p
}

@Suite("corpus diff")
struct CorpusDiffTests {
    @Test("new, changed, removed and unchanged documents by id and content hash; removed ids sorted")
    func counts() {
        let before = [doc("a"), doc("b"), doc("c"), doc("z")]
        let previous = recordedLike(previousRun([0: ["a", "b"], 1: ["c", "z"]]), before)
        let now = [doc("b"), doc("new1"), doc("c", changed: true), doc("new2")]
        let diff = CorpusDiff(documents: now, recorded: previous.recorded)
        #expect(diff.fresh == [1, 2, 3])
        #expect(diff.changed == 1)
        #expect(diff.new == 2)
        #expect(diff.removed == ["a", "z"])
        #expect(diff.unchanged == 1)
        // 2 new + 1 changed + 2 removed over 4 recorded.
        #expect(diff.changedShare(previousCount: previous.recorded.count) == 5.0 / 4.0)
    }

    @Test("without a previous run every document is new")
    func firstRun() {
        let diff = CorpusDiff(documents: [doc("a"), doc("b")], recorded: [:])
        #expect(diff.fresh == [0, 1] && diff.new == 2 && diff.removed.isEmpty && diff.unchanged == 0)
    }
}

@Suite("run plan: refit or incremental")
struct RunPlanTests {
    let docs = (0..<20).map { doc("d\($0)") }
    var previous: PreviousRun {
        recordedLike(previousRun([0: (0..<10).map { "d\($0)" }, 1: (10..<20).map { "d\($0)" }]), docs)
    }
    func options(_ mode: RunMode = .auto, k: KChoice = .auto, labeler: LabelerSpec = .keywords) -> RunOptions {
        var o = RunOptions(source: .jsonl("docs.jsonl"), stateDirectory: "/tmp/none")
        o.mode = mode; o.k = k; o.labeler = labeler
        return o
    }
    func plan(_ o: RunOptions, previous: PreviousRun?, documents: [Document]? = nil, fingerprint: String = "minilm:test") throws
        -> (plan: RunPlan, refitDeferred: String?) {
        let d = documents ?? docs
        return try RunPlan.decide(o, previous: previous, fingerprint: fingerprint,
                                  diff: CorpusDiff(documents: d, recorded: previous?.recorded ?? [:]))
    }

    @Test("a first run refits; `strata assign` without fitted topics is a usage error")
    func first() throws {
        #expect(try plan(options(), previous: nil).plan == .refit("first run"))
        #expect(throws: StrataError.self) { try plan(options(.assign), previous: nil) }
    }

    @Test("an unchanged corpus runs incrementally")
    func unchanged() throws {
        let p = try plan(options(), previous: previous)
        #expect(p.plan == .incremental && p.refitDeferred == nil)
    }

    @Test("each refit reason, in order: --full, --seed-topics, embedder, labeler, k, age, changed share")
    func reasons() throws {
        #expect(try plan(options(.full), previous: previous).plan == .refit("--full"))
        var seeded = options()
        seeded.seedTopics = [.init(label: "Billing")]
        #expect(try plan(seeded, previous: previous).plan == .refit("--seed-topics (a fit starts from the seeds)"))
        guard case .refit(let embedder) = try plan(options(), previous: previous, fingerprint: "openai:x").plan else { Issue.record(); return }
        #expect(embedder.contains("embedder changed"))
        guard case .refit(let labeler) = try plan(options(labeler: .openai(model: "m")), previous: previous).plan else { Issue.record(); return }
        #expect(labeler.contains("labeler changed"))
        guard case .refit(let k) = try plan(options(k: .fixed(3)), previous: previous).plan else { Issue.record(); return }
        #expect(k.contains("--k 3 differs from the fitted 2"))
        #expect(try plan(options(k: .fixed(2)), previous: previous).plan == .incremental)
        var old = previous
        old.model = previousRun([0: ["d0"], 1: ["d1"]], ageDays: 31).model
        guard case .refit(let age) = try plan(options(), previous: old).plan else { Issue.record(); return }
        #expect(age.contains("days old (limit 30)"))
        // 5 of 20 changed (25%) passes the 20% limit; 4 of 20 (20%) does not.
        let five = docs.enumerated().map { $0 < 5 ? doc($1.id, changed: true) : $1 }
        guard case .refit(let share) = try plan(options(), previous: previous, documents: five).plan else { Issue.record(); return }
        #expect(share.contains("25.0% of documents"))
        let four = docs.enumerated().map { $0 < 4 ? doc($1.id, changed: true) : $1 }
        #expect(try plan(options(), previous: previous, documents: four).plan == .incremental)
    }

    @Test("`strata assign` never refits: it assigns and says why a refit is due; another embedder is a usage error")
    func assign() throws {
        let p = try plan(options(.assign, k: .fixed(5)), previous: previous)
        #expect(p.plan == .incremental)
        #expect(p.refitDeferred?.contains("--k 5") == true)
        #expect(throws: StrataError.self) { try plan(options(.assign), previous: previous, fingerprint: "openai:other") }
    }
}

@Suite("incremental: which topics are re-described")
struct TopicChangeTests {
    @Test("a topic whose membership moved beyond the share is redone (one that only lost a representative is not); assign redoes none")
    func redo() {
        let before = (0..<30).map { doc("d\($0)") }
        // Topic 0: d0…d9, topic 1: d10…d19 (representative d19), topic 2: d20…d29.
        let previous = recordedLike(previousRun([0: (0..<10).map { "d\($0)" }, 1: (10..<20).map { "d\($0)" },
                                                 2: (20..<30).map { "d\($0)" }], representatives: [1: ["d19"]]), before)
        // d0 and d1 change and move to topic 2; d19 is removed.
        var now = before.filter { $0.id != "d19" }
        now[0] = doc("d0", changed: true); now[1] = doc("d1", changed: true)
        let diff = CorpusDiff(documents: now, recorded: previous.recorded)
        var topicOf = now.map { previous.recorded[$0.id]?.topic ?? -1 }
        topicOf[0] = 2; topicOf[1] = 2
        let change = TopicChange(previous: previous, documents: now, diff: diff, topicOfDocument: topicOf, relabelShare: 0.1)
        // Topic 0 lost 2 of 10 (0.2 > 0.1); topic 1 lost its representative but only 1 of 10 moved (not
        // beyond 0.1): it keeps its label; topic 2 gained 2 of 10.
        #expect(change.redo == [0, 2])
        #expect(change.documentsChangedTopic == 2)
        #expect(change.goneIDs == ["d0", "d1", "d19"])
        let loose = TopicChange(previous: previous, documents: now, diff: diff, topicOfDocument: topicOf, relabelShare: 0.5)
        #expect(loose.redo.isEmpty)
        let assign = TopicChange(previous: previous, documents: now, diff: diff, topicOfDocument: topicOf, relabelShare: nil)
        #expect(assign.redo.isEmpty && assign.documentsChangedTopic == 2)
    }
}

@Suite("refit: which labels are kept")
struct LabelCarryOverTests {
    let topics = previousRun([5: ["a"], 6: ["b"], 7: ["c"]], sources: [5: .llm, 6: .keywords, 7: .llmRepaired]).document.topics

    @Test("matched topics with similar membership keep their label (LLM labels read cache); the rest are labelled")
    func keep() {
        let carry = LabelCarryOver(idOfCluster: [6, 5, 9, 7], previousOfCluster: [6, 5, nil, 7], membershipJaccard: [0.95, 0.9, nil, 0.5],
                                   previousTopics: topics, relabel: false, relabelShare: 0.1)
        #expect(carry.kept.keys.sorted() == [0, 1])
        #expect(carry.kept[0] == TopicLabel(label: "topic 6", description: "", source: .keywords))
        #expect(carry.kept[1]?.source == .cache)
        #expect(carry.toLabel == [2, 3])
        // Topic 7 kept its id but half its documents changed: relabelled.
        #expect(carry.relabelledMatched == [7])
    }

    @Test("--relabel asks again for every topic, and every matched one counts as relabelled")
    func relabelAll() {
        let carry = LabelCarryOver(idOfCluster: [6, 5, 9], previousOfCluster: [6, 5, nil], membershipJaccard: [1, 1, nil],
                                   previousTopics: topics, relabel: true, relabelShare: 0.1)
        #expect(carry.kept.isEmpty && carry.toLabel == [0, 1, 2] && carry.relabelledMatched == [5, 6])
    }
}

@Suite("id matching across refits")
struct StabilityTests {
    static let axes: [[Float]] = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]

    func previous(_ ids: [Int], rows: [Int], members: [Int: [String]], nextID: Int) throws -> Stability.Previous {
        var topicOf: [String: Int] = [:]
        for (t, m) in members { for id in m { topicOf[id] = t } }
        return .init(ids: ids, centroids: try Matrix(rowArrays: rows.map { Self.axes[$0] }), topicOfDocument: topicOf, nextID: nextID)
    }

    @Test("permuted clusters keep their ids; an unmatched cluster gets the next unused id; nothing is retired")
    func permuted() throws {
        let prev = try previous([10, 11, 12], rows: [0, 1, 2], members: [10: ["a", "b"], 11: ["c", "d"], 12: ["e", "f"]], nextID: 13)
        let centroids = try Matrix(rowArrays: [Self.axes[2], Self.axes[0], Self.axes[1], Self.axes[3]])
        let clusterOf = ["e": 0, "f": 0, "a": 1, "b": 1, "c": 2, "d": 2, "g": 3, "h": 3]
        let r = try Stability.match(previous: prev, centroids: centroids, clusterOfDocument: clusterOf)
        #expect(r.idOfCluster == [12, 10, 11, 13])
        #expect(r.new == [13] && r.nextID == 14 && r.retired.isEmpty)
        #expect(r.matched == [10, 11, 12])
        #expect(r.membershipJaccard.map { $0 ?? -1 } == [1, 1, 1, -1])
        #expect(r.documentsChangedTopic == 0)
    }

    @Test("two old topics whose documents joined one cluster: one id survives, the other is retired and merged into it")
    func merged() throws {
        let prev = try previous([0, 1], rows: [0, 1], members: [0: ["a", "b", "c"], 1: ["d", "e"]], nextID: 2)
        let centroids = try Matrix(rowArrays: [Self.axes[0]])
        let r = try Stability.match(previous: prev, centroids: centroids, clusterOfDocument: ["a": 0, "b": 0, "c": 0, "d": 0, "e": 0])
        #expect(r.idOfCluster == [0])
        #expect(r.retired == [1])
        #expect(r.merges == [Merge(topic: 1, mergedInto: 0)])
        #expect(r.documentsChangedTopic == 2)
    }
}
