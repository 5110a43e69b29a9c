import Foundation
import StrataLabel
import StrataLinalg
import StrataStore

/// Topic ids of a full fit: 0…k−1 by size on a first run; otherwise matched to the previous run's
/// topics (``Stability/match``) so ids survive a refit, with the drift the match implies.
struct IDMatch {
    /// Topic id of each cluster (clusters indexed by size, largest first).
    var idOfCluster: [Int]
    /// Previous topic id each cluster took over (nil: a new topic).
    var previousOfCluster: [Int?]
    /// |old ∩ new| / |old ∪ new| of a matched cluster's documents (nil: a new topic).
    var membershipJaccard: [Double?]
    /// First id never used so far.
    var nextID: Int
    var drift: Drift

    init(_ f: FullRun.Fit, documents docs: [Document], previous: PreviousRun?, diff: CorpusDiff, reason: String) throws {
        let k = f.k
        guard let previous else {
            idOfCluster = Array(0..<k)
            previousOfCluster = [Int?](repeating: nil, count: k)
            membershipJaccard = [Double?](repeating: nil, count: k)
            nextID = k
            drift = Drift(previousRun: nil, mode: "full", refitReason: reason, new: Array(0..<k), documentsNew: docs.count)
            return
        }
        // Centroids of another embedder live in another space: then only membership overlap counts.
        var prevCentroids = try previous.model.embedding()
        if previous.model.fingerprint != f.vectors.fingerprint || prevCentroids.cols != f.description.centroids.cols {
            prevCentroids = Matrix(rows: previous.model.topicIDs.count, cols: f.description.centroids.cols)
        }
        let stability = try Stability.match(
            previous: .init(ids: previous.model.topicIDs, centroids: prevCentroids,
                            topicOfDocument: previous.recorded.mapValues(\.topic), nextID: previous.nextID),
            centroids: f.description.centroids,
            clusterOfDocument: Dictionary(uniqueKeysWithValues: docs.enumerated().map { ($1.id, f.cluster[$0]) }))
        idOfCluster = stability.idOfCluster
        previousOfCluster = stability.previousOfCluster
        membershipJaccard = stability.membershipJaccard
        nextID = stability.nextID
        drift = Drift(previousRun: previous.document.run.id, mode: "full", refitReason: reason, matched: stability.matched,
                      new: stability.new, retired: stability.retired, splits: stability.splits, merges: stability.merges,
                      documentsChangedTopic: stability.documentsChangedTopic, documentsNew: diff.new, documentsChanged: diff.changed,
                      documentsRemoved: diff.removed.count)
    }
}

/// Which labels a refit keeps: a matched topic keeps its label (unless `--relabel`) while its membership
/// changed by at most `relabelShare` (1 − Jaccard of old and new documents), as in incremental runs;
/// the rest are asked for. A topic matched across a change of k or a large drift keeps its id but is
/// relabelled. A pure decision.
struct LabelCarryOver: Equatable {
    /// Label carried over for each cluster that keeps one (LLM labels now read `cache`).
    var kept: [Int: TopicLabel] = [:]
    /// Clusters to label, ascending.
    var toLabel: [Int] = []
    /// Ids of matched topics that are relabelled, ascending (`drift.relabelled`).
    var relabelledMatched: [Int] = []

    init(idOfCluster: [Int], previousOfCluster: [Int?], membershipJaccard: [Double?], previousTopics: [Topic],
         relabel: Bool, relabelShare: Double) {
        let previousByID = Dictionary(uniqueKeysWithValues: previousTopics.map { ($0.id, $0) })
        for c in idOfCluster.indices {
            let similar = (membershipJaccard[c] ?? 0) >= 1 - relabelShare
            if previousOfCluster[c] != nil && (!similar || relabel) { relabelledMatched.append(idOfCluster[c]) }
            if !relabel, similar, let p = previousOfCluster[c], let old = previousByID[p] {
                kept[c] = TopicLabel(label: old.label, description: old.description, source: old.labelSource.carriedOver)
            } else {
                toLabel.append(c)
            }
        }
        relabelledMatched.sort()
    }

    init(_ ids: IDMatch, previousTopics: [Topic], relabel: Bool, relabelShare: Double) {
        self.init(idOfCluster: ids.idOfCluster, previousOfCluster: ids.previousOfCluster, membershipJaccard: ids.membershipJaccard,
                  previousTopics: previousTopics, relabel: relabel, relabelShare: relabelShare)
    }
}

/// Parents and topics share one id space (every `topic_parent_id` joins `strata_topics.id`). A state
/// written before that numbered parents 0…p−1 beside topics 0…k−1; its parents move to the next unused
/// ids on the first run that reads it. Returns the new next id. O(k + p).
func separateParentIDs(topics: inout [Topic], hierarchy: inout [ParentTopic], nextID: Int) -> Int {
    let topicIDs = Set(topics.map(\.id))
    guard hierarchy.contains(where: { topicIDs.contains($0.id) }) else { return nextID }
    var newID: [Int: Int] = [:]
    for (n, p) in hierarchy.enumerated() { newID[p.id] = nextID + n }
    for i in hierarchy.indices { hierarchy[i].id = newID[hierarchy[i].id]! }
    for i in topics.indices { topics[i].parentID = topics[i].parentID.flatMap { newID[$0] } }
    return nextID + hierarchy.count
}
