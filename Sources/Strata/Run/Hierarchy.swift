import Foundation
import StrataEmbed
import StrataLabel
import StrataLinalg
import StrataStore

/// Parents over topics: spherical k-means over the topic centroids (≈ √k parents), named by the
/// LLM from their children's labels, or by their c-TF-IDF keywords; never by two children's labels
/// joined, and "Mixed: …" when no name verifies.
struct HierarchyResult {
    var parents: [ParentTopic] = []
    var parentOfTopic: [Int?]
    var calls = 0, promptTokens = 0, completionTokens = 0
    var notes: [String] = []
    var warnings: [String] = []
    var usage: StateDatabase.LLMUsage?
}

enum Hierarchy {
    static func build(description: TopicDescription, labels: [TopicLabel], documents: [Document], topicOfDocument: [Int],
                      spec: LabelerSpec, options: RunOptions, state: StateDatabase,
                      reporter: RunReporter) async throws -> HierarchyResult {
        let k = description.centroids.rows
        var result = HierarchyResult(parentOfTopic: [Int?](repeating: nil, count: k))
        guard k >= 6 else { return result }
        var o = KMeans.Options(k: max(2, Int(Double(k).squareRoot().rounded())))
        o.metric = .cosine
        o.seed = options.seed
        o.restarts = 8
        let model = try KMeans.fit(description.centroids, options: o)
        // Parents ordered by first child so ids are stable for a given fit.
        var order: [Int] = []
        for l in model.labels where !order.contains(l) { order.append(l) }
        let parentOf = model.labels.map { order.firstIndex(of: $0)! }
        let p = order.count
        let children = (0..<p).map { j in (0..<k).filter { parentOf[$0] == j } }
        let keywords = ClassTFIDF.keywords(index: description.terms, labels: description.termRows.map { parentOf[topicOfDocument[$0]] },
                                           classCount: p, count: 10, minDocumentFrequency: 2).map { $0.map(\.term) }
        let sketches = (0..<p).map { j in
            TopicSketch(index: j, keywords: keywords[j], representatives: [], contrast: [],
                        size: children[j].reduce(0) { $0 + description.representatives[$1].count })
        }
        var named = sketches.map(KeywordLabeler.label)
        if case .openai(let m) = spec {
            let requests = (0..<p).map { j in
                let childLabels = children[j].map { labels[$0].label }
                return LLMLabeler.Request(messages: LabelPrompt.parent(childLabels: childLabels),
                                          completion: CompletionPrompt.parent(childLabels: childLabels, keywords: keywords[j]),
                                          fallback: named[j], grounding: (childLabels + keywords[j]).joined(separator: " "))
            }
            let r = try await Labeling.label(requests, model: m, options: options, state: state, reporter: reporter, what: "parent")
            named = r.labels
            result.calls = r.calls; result.promptTokens = r.promptTokens; result.completionTokens = r.completionTokens
            result.notes = r.notes
            result.warnings = r.warnings
            result.usage = r.usage
        }
        var confidence = [Double?](repeating: nil, count: p)
        if options.dryRun == nil, let embedder = try EmbeddingStage.makeEmbedder(options.embedder, baseURL: options.embeddingBaseURL) {
            let centroids = parentCentroids(description.centroids, children: children, sizes: description.sketches.map(\.size))
            // A parent's name must not repeat one of its children's (the tree would read "X > X"), nor join two.
            let childLabels = children.map { $0.map { labels[$0].label } }
            let verified = try await LabelVerification.verify(named, sketches: sketches, rows: Array(0..<p),
                                                              context: VerificationContext(centroids: centroids), embedder: embedder,
                                                              what: "parent", avoid: childLabels)
            named = verified.labels
            confidence = verified.confidence.map(Optional.init)
            for j in verified.unverified {
                named[j] = unnamed(children[j], labels: labels, sizes: description.sketches.map(\.size))
                result.notes.append("parent \(j): no name covers its children; published \"\(named[j].label)\"")
            }
            result.notes += verified.notes
            result.warnings += verified.warnings
        } else {
            disambiguate(&named, sketches: sketches)
        }
        result.parents = (0..<p).map { j in
            ParentTopic(id: j, label: named[j].label, description: named[j].description, children: children[j],
                        labelSource: named[j].source, labelConfidence: confidence[j])
        }
        result.parentOfTopic = parentOf.map { Optional($0) }
        return result
    }

    /// The name of a parent none of whose candidates verifies: it says the children share nothing
    /// nameable ("Mixed: " and the largest child's label) instead of inventing, and lists the children.
    static func unnamed(_ children: [Int], labels: [TopicLabel], sizes: [Int]) -> TopicLabel {
        let bySize = children.sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
        let first = bySize.first.map { labels[$0].label } ?? "topics"
        return TopicLabel(label: "Mixed: " + first, description: "Topics with no common name: " + bySize.map { labels[$0].label }.joined(separator: "; ") + ".",
                          source: .keywords)
    }

    /// Unit centroid of each parent: the size-weighted mean of its children's unit centroids.
    static func parentCentroids(_ topics: Matrix, children: [[Int]], sizes: [Int]) -> Matrix {
        var out = Matrix(rows: children.count, cols: topics.cols)
        for (j, list) in children.enumerated() {
            for c in list {
                let w = Float(max(1, sizes[c]))
                for (col, v) in topics.row(c).enumerated() { out[j, col] += w * v }
            }
        }
        return out.normalizedRows()
    }
}
