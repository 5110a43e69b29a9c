import Foundation
import StrataLinalg

/// Keeps topic IDs stable across refits: new clusters are matched one-to-one to the previous topics
/// by the Hungarian algorithm on centroid cosine plus membership overlap; matched clusters keep the
/// old ID, unmatched ones get fresh IDs (never reused), and unmatched old topics are retired.
/// Splits and merges are read off the membership contingency.
enum Stability {
    struct Previous {
        /// Previous topic IDs and their embedding-space centroids (unit rows, same order).
        var ids: [Int]
        var centroids: Matrix
        /// Previous topic of each recorded document (−1 allowed and ignored).
        var topicOfDocument: [String: Int]
        /// First id never used so far.
        var nextID: Int
    }

    struct Result {
        /// Topic id of each new cluster.
        var idOfCluster: [Int]
        var matched: [Int] = []
        var new: [Int] = []
        var retired: [Int] = []
        var splits: [Split] = []
        var merges: [Merge] = []
        var documentsChangedTopic = 0
        var nextID: Int
        /// Previous id each matched cluster took over (nil for new clusters).
        var previousOfCluster: [Int?]
        /// For matched clusters, |old ∩ new| / |old ∪ new| of their documents (present in both runs
        /// or not); nil for new clusters.
        var membershipJaccard: [Double?] = []
    }

    /// A match is accepted when the centroids' cosine is at least this…
    static let minimumCosine: Float = 0.8
    /// …or at least this share of the new cluster's documents was in the old topic.
    static let minimumOverlap = 0.5
    /// A new topic is split from an old one (that lives on in another cluster) when at least this
    /// share of its documents came from it; a retired topic merged into the cluster that took at
    /// least this share of its documents.
    static let lineageShare = 0.3

    /// - Parameters:
    ///   - centroids: k × d unit embedding-space centroids of the new clusters.
    ///   - clusterOfDocument: new cluster of each current document.
    static func match(previous: Previous, centroids: Matrix, clusterOfDocument: [String: Int]) throws -> Result {
        let kp = previous.ids.count, kn = centroids.rows
        let cos = Similarity.cosines(previous.centroids, centroids)
        // Contingency over documents present in both runs.
        var both = [Double](repeating: 0, count: kp * kn)
        var prevSize = [Double](repeating: 0, count: kp), newSize = [Double](repeating: 0, count: kn)
        let row = Dictionary(uniqueKeysWithValues: previous.ids.enumerated().map { ($1, $0) })
        for (id, c) in clusterOfDocument {
            newSize[c] += 1
            guard let t = previous.topicOfDocument[id], let i = row[t] else { continue }
            both[i * kn + c] += 1
        }
        for (_, t) in previous.topicOfDocument { if let i = row[t] { prevSize[i] += 1 } }
        var score = [Double](repeating: 0, count: kp * kn)
        for i in 0..<kp {
            for j in 0..<kn {
                let inter = both[i * kn + j]
                let union = prevSize[i] + newSize[j] - inter
                score[i * kn + j] = Double(cos[i, j]) + (union > 0 ? inter / union : 0)
            }
        }
        let matching = try Hungarian.solve(costs: score, rowCount: kp, columnCount: kn, maximize: true)
        var idOf = [Int?](repeating: nil, count: kn)
        var previousOf = [Int?](repeating: nil, count: kn)
        var rowOfCluster = [Int?](repeating: nil, count: kn)
        for (i, j) in zip(matching.rows, matching.columns) {
            let overlap = newSize[j] > 0 ? both[i * kn + j] / newSize[j] : 0
            if cos[i, j] >= minimumCosine || overlap >= minimumOverlap {
                idOf[j] = previous.ids[i]; previousOf[j] = previous.ids[i]; rowOfCluster[j] = i
            }
        }
        var next = previous.nextID
        var result = Result(idOfCluster: [], nextID: 0, previousOfCluster: previousOf)
        result.membershipJaccard = (0..<kn).map { j in
            guard let i = rowOfCluster[j] else { return nil }
            let inter = both[i * kn + j], union = prevSize[i] + newSize[j] - inter
            return union > 0 ? inter / union : 1
        }
        // New clusters get fresh ids, largest first, so ids read in size order within one run.
        for j in (0..<kn).filter({ idOf[$0] == nil }).sorted(by: { newSize[$0] > newSize[$1] || (newSize[$0] == newSize[$1] && $0 < $1) }) {
            idOf[j] = next
            result.new.append(next)
            next += 1
        }
        result.idOfCluster = idOf.map { $0! }
        result.nextID = next
        result.matched = previousOf.compactMap { $0 }.sorted()
        let matchedRows = Set(rowOfCluster.compactMap { $0 })
        result.retired = (0..<kp).filter { !matchedRows.contains($0) }.map { previous.ids[$0] }.sorted()
        // Splits: a new topic most of whose documents came from an old topic that lives on elsewhere.
        for j in 0..<kn where previousOf[j] == nil && newSize[j] > 0 {
            guard let i = (0..<kp).max(by: { both[$0 * kn + j] < both[$1 * kn + j] }) else { continue }
            if both[i * kn + j] / newSize[j] >= lineageShare {
                result.splits.append(Split(topic: result.idOfCluster[j], splitFrom: previous.ids[i]))
            }
        }
        // Merges: a retired topic most of whose documents went to one surviving cluster.
        for i in 0..<kp where !matchedRows.contains(i) && prevSize[i] > 0 {
            guard let j = (0..<kn).max(by: { both[i * kn + $0] < both[i * kn + $1] }) else { continue }
            if both[i * kn + j] / prevSize[i] >= lineageShare {
                result.merges.append(Merge(topic: previous.ids[i], mergedInto: result.idOfCluster[j]))
            }
        }
        result.splits.sort { $0.topic < $1.topic }
        result.merges.sort { $0.topic < $1.topic }
        for (id, c) in clusterOfDocument {
            if let t = previous.topicOfDocument[id], t != result.idOfCluster[c] { result.documentsChangedTopic += 1 }
        }
        return result
    }
}
