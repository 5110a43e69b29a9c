import Testing
import StrataLinalg

@Suite("clustering metrics against scikit-learn (1e-5 relative)")
struct MetricsTests {
    let f: Fixture
    let x: Matrix
    let pred: [Int]
    let truth: [Int]
    init() throws {
        f = try Fixture("metrics"); x = try f.x(); pred = f.ints("labels_pred"); truth = f.ints("labels_true")
    }

    @Test func silhouette() throws {
        let s = try ClusterMetrics.silhouette(x, labels: pred)
        #expect(relativeError(s, f.double("silhouette")) <= 1e-5, "\(s) vs \(f.double("silhouette"))")
        let samples = try ClusterMetrics.silhouetteSamples(x, labels: pred)
        let reference = f.doubles("silhouette_samples")
        for i in samples.indices { #expect(abs(samples[i] - reference[i]) <= 1e-5) }
        let cosine = try ClusterMetrics.silhouette(x, labels: pred, distance: .cosine)
        let refCos = Fixture(json: f.json["metrics_cosine"] as! [String: Any]).double("silhouette_cosine")
        #expect(relativeError(cosine, refCos) <= 1e-5, "\(cosine) vs \(refCos)")
        // A sample as large as the data is the exact score.
        #expect(try ClusterMetrics.sampledSilhouette(x, labels: pred, sampleSize: 10_000) == s)
        // The k scan's shared float distance matrix gives the same scores (float32 distances: 1e-4).
        let k = (pred.max() ?? 0) + 1
        let euclidean = try ClusterMetrics.PairwiseDistances(x, distance: .euclidean).silhouette(labels: pred, k: k)
        #expect(relativeError(euclidean, f.double("silhouette")) <= 1e-4, "\(euclidean)")
        let cosineShared = try ClusterMetrics.PairwiseDistances(x, distance: .cosine).silhouette(labels: pred, k: k)
        #expect(relativeError(cosineShared, refCos) <= 1e-4, "\(cosineShared) vs \(refCos)")
        // The closed form from cluster sums (what k = auto scores cosine candidates with).
        let closed = try ClusterMetrics.cosineSilhouette(x, labels: pred)
        #expect(relativeError(closed, refCos) <= 1e-6, "\(closed) vs \(refCos)")
        #expect(try ClusterMetrics.cosineSilhouette(x, labels: pred, workers: 1) == closed)
        // Against the pairwise implementation with a singleton and an empty label (cluster 7 unused).
        var odd = pred
        odd[0] = 8
        let pairwise = try ClusterMetrics.silhouette(x, labels: odd, distance: .cosine)
        #expect(abs(try ClusterMetrics.cosineSilhouette(x, labels: odd) - pairwise) <= 1e-9)
        let sampled = try ClusterMetrics.sampledSilhouette(x, labels: pred, sampleSize: 300, seed: 1)
        #expect(abs(sampled - s) < 0.05)
    }

    @Test func calinskiHarabaszAndDaviesBouldin() throws {
        let ch = try ClusterMetrics.calinskiHarabasz(x, labels: pred)
        #expect(relativeError(ch, f.double("calinski_harabasz")) <= 1e-5, "\(ch)")
        let db = try ClusterMetrics.daviesBouldin(x, labels: pred)
        #expect(relativeError(db, f.double("davies_bouldin")) <= 1e-5, "\(db)")
    }

    @Test func nmiAriContingency() throws {
        let nmi = try ClusterMetrics.normalizedMutualInformation(truth: truth, predicted: pred)
        #expect(relativeError(nmi, f.double("nmi")) <= 1e-5, "\(nmi)")
        let ari = try ClusterMetrics.adjustedRandIndex(truth: truth, predicted: pred)
        #expect(relativeError(ari, f.double("ari")) <= 1e-5, "\(ari)")
        let table = try ClusterMetrics.contingency(truth: truth, predicted: pred)
        #expect(table.classes.count == f.int("contingency_rows"))
        #expect(table.clusters.count == f.int("contingency_cols"))
        #expect(table.counts == f.ints("contingency"))
        // Renaming clusters changes nothing; identical partitions score 1.
        #expect(abs(try ClusterMetrics.normalizedMutualInformation(truth: pred, predicted: pred.map { 10 - $0 }) - 1) < 1e-12)
        #expect(try ClusterMetrics.adjustedRandIndex(truth: pred, predicted: pred.map { $0 + 3 }) == 1)
    }

    /// AMI against scikit-learn's adjusted_mutual_info_score: on the blob clustering (≈ NMI) and on
    /// two unrelated random labelings with 40 clusters, where NMI is 0.12 but the chance-corrected
    /// score is ≈ 0 — the case it exists for.
    @Test func adjustedMutualInformation() throws {
        let ami = try ClusterMetrics.adjustedMutualInformation(truth: truth, predicted: pred)
        #expect(relativeError(ami, f.double("ami")) <= 1e-6, "\(ami)")
        let rt = f.ints("random_truth"), rp = f.ints("random_pred")
        let randomNMI = try ClusterMetrics.normalizedMutualInformation(truth: rt, predicted: rp)
        let randomAMI = try ClusterMetrics.adjustedMutualInformation(truth: rt, predicted: rp)
        #expect(relativeError(randomNMI, f.double("random_nmi")) <= 1e-6, "\(randomNMI)")
        #expect(abs(randomAMI - f.double("random_ami")) <= 1e-6, "\(randomAMI) vs \(f.double("random_ami"))")
        #expect(abs(randomAMI) < 0.05 && randomNMI > 0.1)
        #expect(abs(try ClusterMetrics.adjustedMutualInformation(truth: pred, predicted: pred.map { 7 - $0 }) - 1) < 1e-12)
    }

    @Test func simplifiedSilhouetteIsBounded() throws {
        let model = try KMeans.fit(x, options: KMeans.Options(k: 6))
        let s = ClusterMetrics.simplifiedSilhouette(try model.predict(x))
        #expect(s > 0.3 && s <= 1)
    }
}

@Suite("Hungarian assignment against scipy.optimize.linear_sum_assignment")
struct HungarianTests {
    @Test func allCases() throws {
        let f = try Fixture("hungarian")
        for case let c as [String: Any] in f.json["cases"] as! [Any] {
            let cf = Fixture(json: c)
            let m = try Hungarian.solve(costs: cf.doubles("cost"), rowCount: cf.int("rows"), columnCount: cf.int("cols"),
                                        maximize: (c["maximize"] as? Bool) ?? false)
            #expect(m.rows == cf.ints("row_ind"), "\(c["note"]!)")
            #expect(m.columns == cf.ints("col_ind"), "\(c["note"]!)")
            #expect(abs(m.total - cf.double("total")) <= 1e-9 * max(1, abs(cf.double("total"))), "\(c["note"]!)")
        }
    }

    @Test func rejectsBadInput() {
        #expect(throws: LinalgError.self) { try Hungarian.solve(costs: [1, 2, 3], rowCount: 2, columnCount: 2) }
        #expect(throws: LinalgError.self) { try Hungarian.solve(costs: [1, .nan, 3, 4], rowCount: 2, columnCount: 2) }
    }
}
