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
    /// Label shape, glued parents and (with class descriptions) class match.
    public var labelQuality: LabelQuality?
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case run, documents, topics, classes, nmi, ami, ari, purity, notes
        case notInState = "not_in_state", truthField = "truth_field", silhouetteSampled = "silhouette_sampled"
        case calinskiHarabasz = "calinski_harabasz", daviesBouldin = "davies_bouldin", labelFidelity = "label_fidelity"
        case centroidFidelity = "centroid_fidelity"
        case labelSources = "label_sources", keywordNPMI = "keyword_npmi", topicDiversity = "topic_diversity"
        case perTopic = "per_topic", labelQuality = "label_quality"
    }
}

public enum Evaluation {
    /// What every part of an evaluation reads: the documents with a recorded topic (source order), their
    /// topic ids, and each topic id's row in `figures`.
    struct Context {
        var previous: PreviousRun
        var state: StateDatabase
        var known: [Document]
        var topicOf: [Int]
        var row: [Int: Int]
    }

    /// Evaluates the state's current topics over the documents of `options.source`. With `classes`, the
    /// truth field defaults to theirs and each clean topic's label is matched against the class
    /// descriptions; with `labels`, another labeler's names stand in for the published ones (label
    /// fidelity, shape and class match measure those; nothing else changes).
    /// O(n·d) for geometry and fidelity (one SGEMM each), O(n·terms) for NPMI.
    public static func run(_ options: RunOptions, truth: String?, classes: ClassDescriptions? = nil, labels: LabelOverrides? = nil,
                           reporter: RunReporter = SilentReporter()) async throws -> EvaluationReport {
        if let t = truth, let c = classes, t != c.truth {
            throw StrataError(.usage, "--truth \(t) but the class descriptions are of the field \"\(c.truth)\"; give one of them")
        }
        let truth = truth ?? classes?.truth
        let docs = try await DocumentStore.read(options.source, options: options.read).documents
        let (state, previous) = try CommittedState.previous(options.stateDirectory)
        let topicsDoc = previous.document
        // Documents with a recorded topic, in source order.
        let known = docs.filter { previous.recorded[$0.id] != nil }
        guard known.count >= 2 else { throw StrataError(.failed, "fewer than 2 documents of the source have topics in the state") }
        let c = Context(previous: previous, state: state, known: known, topicOf: known.map { previous.recorded[$0.id]!.topic },
                        row: Dictionary(uniqueKeysWithValues: topicsDoc.topics.enumerated().map { ($1.id, $0) }))
        var report = EvaluationReport(run: topicsDoc.run.id, documents: known.count, topics: topicsDoc.topics.count,
                                      notInState: docs.count - known.count, labelSources: [:], keywordNPMI: 0, topicDiversity: 0,
                                      perTopic: [], notes: [])
        if known.count < docs.count { report.notes.append("\(docs.count - known.count) documents are newer than the last run and left out") }
        let named = try names(topicsDoc, labels, notes: &report.notes)
        // Under --labels the measured names are the file's, whatever the published ones' sources were.
        report.labelSources = labels.map { [$0.method ?? "--labels": named.filter { !$0.label.isEmpty }.count] } ?? LabelSource.tally(topicsDoc.topics, [])
        var figures = topicsDoc.topics.enumerated().map { EvaluationReport.TopicFigures(id: $1.id, label: named[$0].label, size: 0, keywordNPMI: 0) }
        for t in c.topicOf { if let r = c.row[t] { figures[r].size += 1 } }
        if let truth { try agreement(&report, figures: &figures, truth: truth, c) }
        try await geometry(&report, figures: &figures, options: options, c, reporter: reporter)
        reporter.stage("label fidelity")
        try await fidelity(&report, figures: &figures, labelTexts: named.map { LabelVerification.fullText($0.label, $0.description) },
                           options: options, c, reporter: reporter)
        try await quality(&report, figures: figures, document: topicsDoc, labeler: labels.map { $0.method ?? "--labels" }, classes: classes)

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

    /// Each topic's label and description: the published ones, or `labels`' for the topics it names
    /// (a topic it leaves out gets an empty label: embedded as is for fidelity, never a class match, and
    /// named in a note).
    static func names(_ doc: TopicsDocument, _ labels: LabelOverrides?, notes: inout [String]) throws -> [(label: String, description: String)] {
        guard let labels else { return doc.topics.map { ($0.label, $0.description) } }
        let byID = Dictionary(labels.topics.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let missing = doc.topics.filter { byID[$0.id] == nil || byID[$0.id]!.label.isEmpty }.map(\.id)
        if !missing.isEmpty { notes.append("\(labels.method ?? "--labels") names no label for topic(s) \(missing.map(String.init).joined(separator: ", "))") }
        notes.append("labels from \(labels.method ?? "--labels") stand in for the published ones (not recorded)")
        return doc.topics.map { t in byID[t.id].map { ($0.label, $0.description ?? "") } ?? ("", "") }
    }

    /// Label shape, glued parents (strata's own parents only) and, with `classes`, class match.
    static func quality(_ report: inout EvaluationReport, figures: [EvaluationReport.TopicFigures], document: TopicsDocument,
                        labeler: String?, classes: ClassDescriptions?) async throws {
        let labelOf = Dictionary(uniqueKeysWithValues: figures.map { ($0.id, $0.label) })
        let parents = labeler != nil ? [] : document.hierarchy.map { p in (label: p.label, children: p.children.compactMap { labelOf[$0] }) }
        var q = LabelQuality.shape(labeler: labeler ?? "strata", labels: figures.map(\.label).filter { !$0.isEmpty }, parents: parents)
        if let classes {
            let majority = figures.map { f in f.classes?.first.map { (name: $0.name, share: $0.share) } }
            try await q.matchClasses(ids: figures.map(\.id), labels: figures.map(\.label), majority: majority, descriptions: classes,
                                     embedder: try MiniLMEmbedder())
        }
        report.labelQuality = q
    }

    /// The truth field's value of `d` as a class name; a usage error naming the document when absent.
    static func className(_ d: Document, truth: String) throws -> String {
        guard let v = d.metadata[truth] else {
            throw StrataError(.usage, "\(d.location): no field \"\(truth)\" (--truth names a field of every document)")
        }
        switch v {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .number(let x): return String(x)
        case .bool(let b): return String(b)
        default: return "\(v)"
        }
    }

    /// Agreement with the truth field: NMI, AMI, ARI, purity, and each topic's three largest classes.
    static func agreement(_ report: inout EvaluationReport, figures: inout [EvaluationReport.TopicFigures], truth: String,
                          _ c: Context) throws {
        var classIndex: [String: Int] = [:], names: [String] = []
        var truthLabels: [Int] = []
        for d in c.known {
            let name = try className(d, truth: truth)
            if classIndex[name] == nil { classIndex[name] = names.count; names.append(name) }
            truthLabels.append(classIndex[name]!)
        }
        report.truthField = truth
        report.classes = names.count
        report.nmi = try ClusterMetrics.normalizedMutualInformation(truth: truthLabels, predicted: c.topicOf)
        report.ami = try ClusterMetrics.adjustedMutualInformation(truth: truthLabels, predicted: c.topicOf)
        report.ari = try ClusterMetrics.adjustedRandIndex(truth: truthLabels, predicted: c.topicOf)
        let table = try ClusterMetrics.contingency(truth: truthLabels, predicted: c.topicOf)
        var majority = 0
        for (col, cluster) in table.clusters.enumerated() {
            let column = (0..<table.classes.count).map { (cls: table.classes[$0], count: table[$0, col]) }.sorted { $0.count > $1.count }
            majority += column.first?.count ?? 0
            let size = column.reduce(0) { $0 + $1.count }
            if let r = c.row[cluster] {
                figures[r].classes = column.prefix(3).filter { $0.count > 0 }.map {
                    .init(name: names[$0.cls], count: $0.count, share: Double($0.count) / Double(max(1, size)))
                }
            }
        }
        report.purity = Double(majority) / Double(c.known.count)
    }

    /// Geometry in the fitted space (sampled silhouette, Calinski–Harabasz, Davies–Bouldin) and each
    /// topic's cohesion and separation in the embedding space; skipped when vectors would cost money.
    static func geometry(_ report: inout EvaluationReport, figures: inout [EvaluationReport.TopicFigures], options: RunOptions,
                         _ c: Context, reporter: RunReporter) async throws {
        let model = c.previous.model
        let spec = try EmbedderSpec.parse(c.previous.document.run.embedder.name)
        let free: Bool = { if case .openai = spec { return false }; return true }()
        let cachedCount = free ? c.known.count : (try c.state.cachedHashes(model: model.fingerprint, hashes: c.known.map(\.contentHash)).count)
        guard free || cachedCount == c.known.count else {
            report.notes.append("geometry skipped: the run's embedder is a paid endpoint and not every vector is cached")
            return
        }
        reporter.stage("geometry")
        let x = try await EmbeddingStage.embed(c.known, spec: spec, baseURL: options.embeddingBaseURL, state: c.state, tokenCounter: nil,
                                               reporter: reporter, store: false).matrix
        let y = try model.pca().transform(x).normalizedRows()
        let assigned = (0..<c.known.count).filter { c.topicOf[$0] >= 0 }
        if Set(assigned.map { c.topicOf[$0] }).count >= 2 {
            let ya = y.gathering(rows: assigned), la = assigned.map { c.topicOf[$0] }
            report.silhouetteSampled = try ClusterMetrics.sampledSilhouette(ya, labels: la, sampleSize: 5_000, seed: 42)
            report.calinskiHarabasz = try ClusterMetrics.calinskiHarabasz(ya, labels: la)
            report.daviesBouldin = try ClusterMetrics.daviesBouldin(ya, labels: la)
        }
        let centroids = try model.embedding()
        let sims = Similarity.cosines(x, centroids)
        let centroidSims = Similarity.cosines(centroids, centroids)
        let modelRow = Dictionary(uniqueKeysWithValues: model.topicIDs.enumerated().map { ($1, $0) })
        var sum = [Double](repeating: 0, count: figures.count), count = [Int](repeating: 0, count: figures.count)
        for (i, t) in c.topicOf.enumerated() {
            guard let r = c.row[t], let m = modelRow[t] else { continue }
            sum[r] += Double(sims[i, m]); count[r] += 1
        }
        for (r, f) in figures.enumerated() {
            if count[r] > 0 { figures[r].cohesion = sum[r] / Double(count[r]) }
            if let m = modelRow[f.id] {
                let nearest = (0..<centroids.rows).filter { $0 != m }.map { centroidSims[m, $0] }.max()
                figures[r].separation = nearest.map { 1 - Double($0) }
            }
        }
    }

    /// Label fidelity with our own encoder: the share of documents whose nearest embedded label is their
    /// own topic's; and the same with each topic's mean document vector in place of its label — the
    /// reference that says how much of the gap is the labels' and how much the topics' overlap.
    static func fidelity(_ report: inout EvaluationReport, figures: inout [EvaluationReport.TopicFigures], labelTexts: [String],
                         options: RunOptions, _ c: Context, reporter: RunReporter) async throws {
        let minilm = try MiniLMEmbedder()
        let batch = try await minilm.embed(labelTexts, progress: nil)
        let labelVectors = try Matrix(rows: labelTexts.count, cols: batch.dimension, storage: batch.values).normalizedRows()
        let docVectors = try await EmbeddingStage.embed(c.known, spec: .minilm, baseURL: options.embeddingBaseURL, state: c.state,
                                                        tokenCounter: nil, reporter: reporter).matrix
        // Documents of topics the report lists; an empty topic keeps a zero row: never nearest to anything.
        let listed = (0..<c.known.count).filter { c.row[c.topicOf[$0]] != nil }
        let rowOf = listed.map { c.row[c.topicOf[$0]]! }
        let vectors = docVectors.gathering(rows: listed)
        let centroids = Similarity.unitCentroids(vectors, labels: rowOf, k: labelVectors.rows)
        func hits(_ references: Matrix) -> [Int] {
            var hits = [Int](repeating: 0, count: figures.count)
            for (i, best) in Similarity.nearest(Similarity.cosines(vectors, references)).enumerated() where best == rowOf[i] { hits[best] += 1 }
            return hits
        }
        var members = [Int](repeating: 0, count: figures.count)
        for r in rowOf { members[r] += 1 }
        let labelHits = hits(labelVectors)
        for r in figures.indices where members[r] > 0 { figures[r].labelFidelity = Double(labelHits[r]) / Double(members[r]) }
        let total = members.reduce(0, +)
        report.labelFidelity = total > 0 ? Double(labelHits.reduce(0, +)) / Double(total) : nil
        report.centroidFidelity = total > 0 ? Double(hits(centroids).reduce(0, +)) / Double(total) : nil
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
