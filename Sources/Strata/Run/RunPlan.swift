import Foundation
import StrataLabel
import StrataStore

/// What changed in the source since the previous run, by id and content hash — computed once per run
/// and shared by the refit decision, the incremental path, the full run's drift and the estimate.
struct CorpusDiff: Equatable {
    /// Indices (into the current documents, source order) of new or changed documents.
    var fresh: [Int]
    /// How many of `fresh` were present before with another content hash.
    var changed: Int
    /// Ids recorded by the previous run and absent now, sorted.
    var removed: [String]
    /// Documents present before with the same hash.
    var unchanged: Int

    /// Documents whose id the previous run never saw.
    var new: Int { fresh.count - changed }

    /// The diff of `documents` (ids unique, as every reader guarantees) against `recorded`. O(n + r).
    /// With no previous run every document is new.
    init(documents: [Document], recorded: [String: StateDatabase.RecordedDocument]) {
        fresh = []
        changed = 0
        for (i, d) in documents.enumerated() {
            if let r = recorded[d.id] {
                if !r.sameText(as: d) { fresh.append(i); changed += 1 }
            } else {
                fresh.append(i)
            }
        }
        // Every current document was looked up: the recorded ids left over are the removed ones. They
        // are found through the current ids' hashes (one Int a document, not a set of 10M strings).
        if documents.count - (fresh.count - changed) == recorded.count {
            removed = []
        } else {
            var byHash: [Int: Int32] = [:]
            var collided = Set<String>()
            byHash.reserveCapacity(documents.count)
            for (i, d) in documents.enumerated() {
                let id = d.id
                if byHash[id.hashValue] == nil { byHash[id.hashValue] = Int32(i) } else { collided.insert(id) }
            }
            removed = recorded.keys.filter { key in
                guard let i = byHash[key.hashValue] else { return true }
                return documents[Int(i)].id != key && !collided.contains(key)
            }.sorted()
        }
        unchanged = documents.count - fresh.count
    }

    /// New, changed and removed documents as a share of the previous corpus (`previousCount`, at
    /// least 1). Can exceed 1 when the corpus grew more than it had.
    func changedShare(previousCount: Int) -> Double {
        Double(fresh.count + removed.count) / Double(max(1, previousCount))
    }
}

/// Whether a run with a previous fitted model refits or runs incrementally, decided once for `strata run`,
/// `strata assign` and `strata estimate`.
enum RunPlan: Equatable {
    /// Embed and assign only the new and changed documents.
    case incremental
    /// A full fit, with the reason recorded in the run (`first run`, `--full`, a limit passed…).
    case refit(String)

    /// The plan for this run. `strata assign` never refits: it refuses a model of another embedder
    /// (usage error) and otherwise warns that a refit is due and assigns. Pure apart from `now`.
    /// - Returns: the plan, and for `strata assign` the refit it did not do (why it is due).
    static func decide(_ options: RunOptions, previous: PreviousRun?, fingerprint: String, diff: CorpusDiff,
                       now: Date = Date()) throws -> (plan: RunPlan, refitDeferred: String?) {
        guard let previous else {
            if options.mode == .assign {
                throw StrataError(.usage, "no fitted topics in \(options.stateDirectory): run `strata run SOURCE` first")
            }
            return (.refit("first run"), nil)
        }
        guard let why = refitReason(options, previous: previous, fingerprint: fingerprint, diff: diff, now: now) else {
            return (.incremental, nil)
        }
        guard options.mode == .assign else { return (.refit(why), nil) }
        if previous.model.fingerprint != fingerprint {
            throw StrataError(.usage, "the fitted model used another embedder (\(previous.model.fingerprint)); run `strata run --full`")
        }
        return (.incremental, why)
    }

    /// Why the fitted model should be refitted before this run, or nil to run incrementally. In order:
    /// `--full`, `--seed-topics`, another embedder, another labeler, another fixed k, the model's age, the changed share.
    static func refitReason(_ options: RunOptions, previous: PreviousRun, fingerprint: String, diff: CorpusDiff,
                            now: Date = Date()) -> String? {
        if options.mode == .full { return "--full" }
        if !options.seedTopics.isEmpty { return "--seed-topics (a fit starts from the seeds)" }
        if previous.model.fingerprint != fingerprint { return "the embedder changed (\(previous.model.fingerprint) → \(fingerprint))" }
        if labelerChanged(options, previous: previous) {
            return "the labeler changed (\(previous.document.run.labeler.name) → \(options.labeler)); every topic is relabelled"
        }
        if let why = ClusteringPolicy.refitReason(options.k, fitted: previous.model.topicIDs.count) { return why }
        let age = previous.model.ageDays(now: now)
        if age > options.refit.maxAgeDays { return String(format: "the model is %.1f days old (limit %.0f)", age, options.refit.maxAgeDays) }
        let share = diff.changedShare(previousCount: previous.recorded.count)
        if share > options.refit.maxChangedShare {
            return String(format: "%.1f%% of documents are new, changed or removed (limit %.0f%%)", share * 100, options.refit.maxChangedShare * 100)
        }
        return nil
    }

    /// True when this run's labeler differs from the one that named the previous run's topics: then
    /// every topic is relabelled (a changed `--labeler` is never silently ignored).
    static func labelerChanged(_ options: RunOptions, previous: PreviousRun) -> Bool {
        previous.document.run.labeler.name != options.labeler.description
    }
}

extension LabelSource {
    /// The source of a label carried over from an earlier run: LLM labels cost nothing this run, so
    /// they read as `cache`; keyword labels stay `keywords`.
    var carriedOver: LabelSource { self == .llm || self == .llmRepaired ? .cache : self }

    /// How many topics and parents carry each label source (`run.labeler.sources`).
    static func tally(_ topics: [Topic], _ parents: [ParentTopic]) -> [String: Int] {
        var sources: [String: Int] = [:]
        for t in topics { sources[t.labelSource.rawValue, default: 0] += 1 }
        for p in parents { sources[p.labelSource.rawValue, default: 0] += 1 }
        return sources
    }
}
