import Foundation
import StrataEmbed
import StrataLabel
import StrataLinalg
import StrataStore

/// `strata eval`: how good are the current topics? Agreement with a truth field (NMI, AMI, ARI, purity,
/// which classes each topic mixes), geometry (sampled silhouette, Calinski–Harabasz, Davies–Bouldin,
/// per-topic cohesion and separation), label fidelity (documents assigned to the nearest embedded
/// label land on their own topic), keyword coherence (NPMI) and topic diversity.
public struct EvaluationReport: Codable, Sendable {
    public struct ClassShare: Codable, Sendable {
        public var name: String
        public var count: Int
        public var share: Double
    }

    public struct TopicFigures: Codable, Sendable {
        public var id: Int
        public var label: String
        public var size: Int
        /// Mean cosine of members to the topic centroid (embedding space).
        public var cohesion: Double?
        /// 1 − cosine to the nearest other topic centroid.
        public var separation: Double?
        /// Share of members whose nearest label embedding is this topic's.
        public var labelFidelity: Double?
        /// Mean NPMI over pairs of the top keywords, over the whole corpus (−1…1).
        public var keywordNPMI: Double
        /// Largest true classes among the members (with a truth field).
        public var classes: [ClassShare]?
        enum CodingKeys: String, CodingKey {
            case id, label, size, cohesion, separation, classes
            case labelFidelity = "label_fidelity", keywordNPMI = "keyword_npmi"
        }
    }

    public var run: String
    public var documents: Int
    public var topics: Int
    /// Documents of the source the state has no topic for (added since the last run): left out.
    public var notInState: Int
    public var truthField: String?
    public var classes: Int?
    public var nmi: Double?
    /// Adjusted (chance-corrected) mutual information; unlike NMI it does not rise with the topic count.
    public var ami: Double?
    public var ari: Double?
    public var purity: Double?
    public var silhouetteSampled: Double?
    public var calinskiHarabasz: Double?
    public var daviesBouldin: Double?
    public var labelFidelity: Double?
    /// Reference for label fidelity: the same measure with each topic's mean document embedding in
    /// place of its embedded label — what the best possible one-vector description would reach.
    public var centroidFidelity: Double?
    /// Where the labels came from (label_source counts), to read fidelity by.
    public var labelSources: [String: Int]
    public var keywordNPMI: Double
    public var topicDiversity: Double
    public var perTopic: [TopicFigures]
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case run, documents, topics, classes, nmi, ami, ari, purity, notes
        case notInState = "not_in_state", truthField = "truth_field", silhouetteSampled = "silhouette_sampled"
        case calinskiHarabasz = "calinski_harabasz", daviesBouldin = "davies_bouldin", labelFidelity = "label_fidelity"
        case centroidFidelity = "centroid_fidelity"
        case labelSources = "label_sources", keywordNPMI = "keyword_npmi", topicDiversity = "topic_diversity"
        case perTopic = "per_topic"
    }
}

public enum Evaluation {
    /// Evaluates the state's current topics over the documents of `options.source`.
    /// O(n·d) for geometry and fidelity (one SGEMM each), O(n·terms) for NPMI.
    public static func run(_ options: RunOptions, truth: String?, reporter: RunReporter = SilentReporter()) async throws -> EvaluationReport {
        let docs = try await DocumentStore.read(options.source, options: options.read).documents
        let state = try CommittedState.open(options.stateDirectory)
        guard let previous = try PreviousRun.load(state) else {
            throw StrataError(.usage, "no topics in \(options.stateDirectory): run `strata run SOURCE` first (or pass --state DIR)")
        }
        let topicsDoc = previous.document
        var notes: [String] = []
        // Documents with a recorded topic, in source order.
        let known = docs.filter { previous.recorded[$0.id] != nil }
        let topicOf = known.map { previous.recorded[$0.id]!.topic }
        guard known.count >= 2 else { throw StrataError(.failed, "fewer than 2 documents of the source have topics in the state") }
        if known.count < docs.count { notes.append("\(docs.count - known.count) documents are newer than the last run and left out") }

        var report = EvaluationReport(run: topicsDoc.run.id, documents: known.count, topics: topicsDoc.topics.count,
                                      notInState: docs.count - known.count, labelSources: [:], keywordNPMI: 0, topicDiversity: 0,
                                      perTopic: [], notes: notes)
        for t in topicsDoc.topics { report.labelSources[t.labelSource.rawValue, default: 0] += 1 }
        var figures = topicsDoc.topics.map { EvaluationReport.TopicFigures(id: $0.id, label: $0.label, size: 0, keywordNPMI: 0) }
        let row = Dictionary(uniqueKeysWithValues: topicsDoc.topics.enumerated().map { ($1.id, $0) })
        for t in topicOf { if let r = row[t] { figures[r].size += 1 } }

        // Truth.
        if let truth {
            var classIndex: [String: Int] = [:], names: [String] = []
            var truthLabels: [Int] = []
            for d in known {
                guard let v = d.metadata[truth] else {
                    throw StrataError(.usage, "\(d.location): no field \"\(truth)\" (--truth names a field of every document)")
                }
                let name: String
                switch v {
                case .string(let s): name = s
                case .integer(let i): name = String(i)
                case .number(let x): name = String(x)
                case .bool(let b): name = String(b)
                default: name = "\(v)"
                }
                if classIndex[name] == nil { classIndex[name] = names.count; names.append(name) }
                truthLabels.append(classIndex[name]!)
            }
            report.truthField = truth
            report.classes = names.count
            report.nmi = try ClusterMetrics.normalizedMutualInformation(truth: truthLabels, predicted: topicOf)
            report.ami = try ClusterMetrics.adjustedMutualInformation(truth: truthLabels, predicted: topicOf)
            report.ari = try ClusterMetrics.adjustedRandIndex(truth: truthLabels, predicted: topicOf)
            let table = try ClusterMetrics.contingency(truth: truthLabels, predicted: topicOf)
            var majority = 0
            for (c, cluster) in table.clusters.enumerated() {
                var column: [(cls: Int, count: Int)] = []
                for r in 0..<table.classes.count { column.append((table.classes[r], table[r, c])) }
                column.sort { $0.count > $1.count }
                majority += column.first?.count ?? 0
                var size = 0
                for e in column { size += e.count }
                if let r = row[cluster] {
                    var top: [EvaluationReport.ClassShare] = []
                    for e in column.prefix(3) where e.count > 0 {
                        top.append(.init(name: names[e.cls], count: e.count, share: Double(e.count) / Double(max(1, size))))
                    }
                    figures[r].classes = top
                }
            }
            report.purity = Double(majority) / Double(known.count)
        }

        // Geometry in the fitted space, and cohesion / separation in the embedding space.
        let spec = try EmbedderSpec.parse(topicsDoc.run.embedder.name)
        let free: Bool = { if case .openai = spec { return false }; return true }()
        let cachedCount = free ? known.count : (try state.cachedHashes(model: previous.model.fingerprint, hashes: known.map(\.contentHash)).count)
        if free || cachedCount == known.count {
            reporter.stage("geometry")
            let x = try await EmbeddingStage.embed(known, spec: spec, baseURL: options.embeddingBaseURL, state: state, tokenCounter: nil,
                                                   reporter: reporter, store: false).matrix
            let y = try previous.model.pca().transform(x).normalizedRows()
            let assigned = (0..<known.count).filter { topicOf[$0] >= 0 }
            if Set(assigned.map { topicOf[$0] }).count >= 2 {
                let ya = y.gathering(rows: assigned), la = assigned.map { topicOf[$0] }
                report.silhouetteSampled = try ClusterMetrics.sampledSilhouette(ya, labels: la, sampleSize: 5_000, seed: 42)
                report.calinskiHarabasz = try ClusterMetrics.calinskiHarabasz(ya, labels: la)
                report.daviesBouldin = try ClusterMetrics.daviesBouldin(ya, labels: la)
            }
            let centroids = try previous.model.embedding()
            let sims = Similarity.cosines(x, centroids)
            let centroidSims = Similarity.cosines(centroids, centroids)
            let modelRow = Dictionary(uniqueKeysWithValues: previous.model.topicIDs.enumerated().map { ($1, $0) })
            var sum = [Double](repeating: 0, count: figures.count), count = [Int](repeating: 0, count: figures.count)
            for (i, t) in topicOf.enumerated() {
                guard let r = row[t], let m = modelRow[t] else { continue }
                sum[r] += Double(sims[i, m]); count[r] += 1
            }
            for (r, f) in figures.enumerated() {
                if count[r] > 0 { figures[r].cohesion = sum[r] / Double(count[r]) }
                if let m = modelRow[f.id] {
                    let nearest = (0..<centroids.rows).filter { $0 != m }.map { centroidSims[m, $0] }.max()
                    figures[r].separation = nearest.map { 1 - Double($0) }
                }
            }
        } else {
            report.notes.append("geometry skipped: the run's embedder is a paid endpoint and not every vector is cached")
        }

        // Label fidelity with our own encoder: every document goes to the nearest embedded label.
        reporter.stage("label fidelity")
        let minilm = try MiniLMEmbedder()
        let labelTexts = topicsDoc.topics.map { $0.description.isEmpty ? $0.label : $0.label + ". " + $0.description }
        let batch = try await minilm.embed(labelTexts, progress: nil)
        let labelVectors = try Matrix(rows: labelTexts.count, cols: batch.dimension, storage: batch.values).normalizedRows()
        let docVectors = try await EmbeddingStage.embed(known, spec: .minilm, baseURL: options.embeddingBaseURL, state: state,
                                                        tokenCounter: nil, reporter: reporter).matrix
        // The same measure with each topic's mean document vector in place of its label: the reference
        // that says how much of the gap is the labels' and how much the topics' overlap.
        var centroids = Matrix(rows: labelVectors.rows, cols: docVectors.cols)
        for (i, t) in topicOf.enumerated() {
            guard let r = row[t] else { continue }
            for j in 0..<docVectors.cols { centroids[r, j] += docVectors[i, j] }
        }
        for r in 0..<centroids.rows {   // an empty topic keeps a zero row: never nearest to anything
            var norm: Float = 0
            for j in 0..<centroids.cols { norm += centroids[r, j] * centroids[r, j] }
            if norm > 0 { for j in 0..<centroids.cols { centroids[r, j] /= norm.squareRoot() } }
        }
        func nearestHits(_ references: Matrix) -> (hits: [Int], members: [Int]) {
            let sims = Similarity.cosines(docVectors, references)
            var hits = [Int](repeating: 0, count: figures.count), members = [Int](repeating: 0, count: figures.count)
            for (i, t) in topicOf.enumerated() {
                guard let r = row[t] else { continue }
                var best = 0
                for j in 1..<max(1, references.rows) where sims[i, j] > sims[i, best] { best = j }
                members[r] += 1
                if best == r { hits[r] += 1 }
            }
            return (hits, members)
        }
        let (hits, members) = nearestHits(labelVectors)
        for r in figures.indices where members[r] > 0 { figures[r].labelFidelity = Double(hits[r]) / Double(members[r]) }
        let totalMembers = members.reduce(0, +)
        report.labelFidelity = totalMembers > 0 ? Double(hits.reduce(0, +)) / Double(totalMembers) : nil
        let centroidHits = nearestHits(centroids).hits
        report.centroidFidelity = totalMembers > 0 ? Double(centroidHits.reduce(0, +)) / Double(totalMembers) : nil

        // Keyword coherence (NPMI over document co-occurrence) and diversity.
        let top = topicsDoc.topics.map { Array($0.keywords.prefix(10)) }
        let npmi = Coherence.npmi(keywords: top, documents: known.map(\.text))
        for r in figures.indices { figures[r].keywordNPMI = npmi[r] }
        report.keywordNPMI = npmi.isEmpty ? 0 : npmi.reduce(0, +) / Double(npmi.count)
        let all = top.flatMap { $0 }
        report.topicDiversity = all.isEmpty ? 0 : Double(Set(all).count) / Double(all.count)
        report.perTopic = figures
        return report
    }

    /// Stores the report's headline figures in topics.json's `quality` (and the state's copy), so the
    /// report page and dashboards see them.
    public static func record(_ report: EvaluationReport, stateDirectory: String) throws {
        let state = try StateDatabase(directory: stateDirectory)
        guard let data = try state.current(PreviousRun.documentKey) else { return }
        var doc = try JSONDecoder().decode(TopicsDocument.self, from: data)
        guard doc.run.id == report.run else { return }
        doc.quality.evaluation = QualityEvaluation(truthField: report.truthField, nmi: report.nmi, ami: report.ami, ari: report.ari, purity: report.purity,
                                                   labelFidelity: report.labelFidelity, centroidFidelity: report.centroidFidelity,
                                                   keywordNPMI: report.keywordNPMI,
                                                   topicDiversity: report.topicDiversity, silhouetteSampled: report.silhouetteSampled,
                                                   calinskiHarabasz: report.calinskiHarabasz, daviesBouldin: report.daviesBouldin)
        let encoded = try doc.encoded()
        try state.setCurrent(PreviousRun.documentKey, encoded)
        try AtomicFile.write((stateDirectory as NSString).appendingPathComponent("topics.json"), data: encoded)
    }
}

/// Topic coherence measures.
enum Coherence {
    /// Mean NPMI over all pairs of each topic's keywords, with probabilities from document
    /// co-occurrence (a keyword "occurs" in a document when it is one of its unigram/bigram terms).
    /// A pair that never co-occurs scores −1. O(documents · terms per document + topics · keywords²).
    static func npmi(keywords: [[String]], documents: [String]) -> [Double] {
        let wanted = Set(keywords.flatMap { $0 })
        var postings: [String: [Int]] = [:]
        for (i, text) in documents.enumerated() {
            for term in Set(KeywordTokenizer.terms(text)) where wanted.contains(term) { postings[term, default: []].append(i) }
        }
        let n = Double(max(1, documents.count))
        func together(_ a: [Int], _ b: [Int]) -> Int {
            var i = 0, j = 0, c = 0
            while i < a.count && j < b.count {
                if a[i] == b[j] { c += 1; i += 1; j += 1 } else if a[i] < b[j] { i += 1 } else { j += 1 }
            }
            return c
        }
        return keywords.map { words in
            var total = 0.0, pairs = 0
            for a in 0..<words.count {
                for b in (a + 1)..<max(a + 1, words.count) {
                    let pa = postings[words[a]] ?? [], pb = postings[words[b]] ?? []
                    let joint = together(pa, pb)
                    pairs += 1
                    if joint == 0 || pa.isEmpty || pb.isEmpty { total += -1; continue }
                    let pij = Double(joint) / n, pi = Double(pa.count) / n, pj = Double(pb.count) / n
                    total += pij >= 1 ? 1 : log(pij / (pi * pj)) / -log(pij)
                }
            }
            return pairs > 0 ? total / Double(pairs) : 0
        }
    }
}
