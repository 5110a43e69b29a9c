import Foundation
import StrataEmbed
import StrataLabel
import StrataLinalg

/// Plain-words descriptions of a corpus's truth classes (`corpora/classes/*.json`):
/// `{"truth": FIELD, "classes": {"class name": "what its documents are about", …}}`.
public struct ClassDescriptions: Codable, Sendable, Equatable {
    /// The document field that holds each document's class.
    public var truth: String
    /// Class name → description.
    public var classes: [String: String]

    /// Reads `path`; a usage error naming the file when it cannot be read or parsed, or holds no class.
    public static func load(_ path: String) throws -> ClassDescriptions {
        let d: ClassDescriptions
        do {
            d = try JSONDecoder().decode(ClassDescriptions.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw StrataError(.usage, "\(path): not a class-description file ({\"truth\": FIELD, \"classes\": {NAME: DESCRIPTION}}): \(error)",
                              underlying: error)
        }
        guard !d.classes.isEmpty else { throw StrataError(.usage, "\(path): \"classes\" is empty (--class-descriptions)") }
        return d
    }
}

/// Another labeler's names for the current topics (`strata eval --labels FILE`): `{"method": NAME,
/// "topics": [{"id": 3, "label": "…", "description": "…"}, …]}`. topics.json itself has this shape, and
/// so does what `scripts/eval/peer_labels.sh` writes.
public struct LabelOverrides: Codable, Sendable {
    public struct Named: Codable, Sendable {
        public var id: Int
        public var label: String
        public var description: String?
    }
    public var method: String?
    public var topics: [Named]

    /// Reads `path`; a usage error naming the file when it cannot be read or parsed.
    public static func load(_ path: String) throws -> LabelOverrides {
        do {
            return try JSONDecoder().decode(LabelOverrides.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw StrataError(.usage, "\(path): not a labels file ({\"topics\": [{\"id\": N, \"label\": TEXT}]}) (--labels): \(error)",
                              underlying: error)
        }
    }
}

/// How labels read (shape), whether parents glue two children together, and — with class
/// descriptions — whether each clean topic's label names its majority class.
public struct LabelQuality: Codable, Sendable {
    /// A clean topic whose label is nearest another class's description.
    public struct Miss: Codable, Sendable {
        public var topic: Int
        public var label: String
        public var majorityClass: String
        public var nearestClass: String
        enum CodingKeys: String, CodingKey { case topic, label, majorityClass = "majority_class", nearestClass = "nearest_class" }
    }

    /// Which labels were measured: "strata" or the `--labels` file's method.
    public var labeler: String
    public var shape: LabelShape.Summary
    /// Parent labels that are two of their children's labels joined (shape of strata's own parents).
    public var gluedParents: [String]
    public var parents: Int
    /// Topics whose majority class holds ≥ 50% of their documents (with class descriptions).
    public var cleanTopics: Int?
    /// Of those, topics whose label's nearest class description is the majority class.
    public var classMatches: Int?
    public var misses: [Miss]?

    /// `classMatches / cleanTopics`, nil without class descriptions or clean topics.
    public var classMatch: Double? {
        guard let n = cleanTopics, n > 0, let m = classMatches else { return nil }
        return Double(m) / Double(n)
    }

    enum CodingKeys: String, CodingKey {
        case labeler, shape, parents, misses
        case gluedParents = "glued_parents", cleanTopics = "clean_topics", classMatches = "class_matches"
    }

    /// The share of a topic's documents its majority class needs for the topic to count as clean.
    public static let cleanShare = 0.5

    /// Shape and glued parents of `labels` (topic order) and `parents` (label, child labels).
    static func shape(labeler: String, labels: [String], parents: [(label: String, children: [String])]) -> LabelQuality {
        LabelQuality(labeler: labeler, shape: LabelShape.summary(labels),
                     gluedParents: parents.filter { LabelShape.isConjunction($0.label, of: $0.children) }.map(\.label),
                     parents: parents.count)
    }

    /// Class match: each clean topic (`majority[i]` = its largest class and that class's share) counts
    /// when its label's MiniLM embedding is nearest the majority class's description among all
    /// classes'. Topics with no label or no class are skipped. O((t + c)·d) to embed, O(t·c·d) to compare.
    mutating func matchClasses(ids: [Int], labels: [String], majority: [(name: String, share: Double)?],
                               descriptions: ClassDescriptions, embedder: any Embedder) async throws {
        let names = descriptions.classes.keys.sorted()
        let clean = labels.indices.filter { i in
            guard let m = majority[i], !labels[i].isEmpty else { return false }
            return m.share >= Self.cleanShare && descriptions.classes[m.name] != nil
        }
        cleanTopics = clean.count
        guard !clean.isEmpty else { classMatches = 0; misses = []; return }
        let classVectors = try await LabelVerification.embed(names.map { descriptions.classes[$0]! }, embedder: embedder)
        let labelVectors = try await LabelVerification.embed(clean.map { labels[$0] }, embedder: embedder)
        let nearest = Similarity.nearest(Similarity.cosines(labelVectors, classVectors))
        var hits = 0, missed: [Miss] = []
        for (r, i) in clean.enumerated() {
            let want = majority[i]!.name
            if names[nearest[r]] == want { hits += 1 } else {
                missed.append(Miss(topic: ids[i], label: labels[i], majorityClass: want, nearestClass: names[nearest[r]]))
            }
        }
        classMatches = hits
        misses = missed
    }
}
