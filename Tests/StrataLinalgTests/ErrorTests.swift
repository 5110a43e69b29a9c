import Foundation
import Testing
import StrataLinalg

@Suite("bad input gives typed errors")
struct ErrorTests {
    let blobs = try! Matrix(rows: 6, cols: 2, storage: [0, 0, 0, 1, 1, 0, 10, 10, 10, 11, 11, 10])

    @Test func nanRow() throws {
        var m = blobs
        m[3, 1] = .nan
        #expect(throws: LinalgError.nonFinite(row: 3, column: 1)) { try KMeans.fit(m, options: KMeans.Options(k: 2)) }
        #expect(throws: LinalgError.nonFinite(row: 3, column: 1)) { try PCA.fit(m, components: .count(1)) }
        m[3, 1] = .infinity
        #expect(throws: LinalgError.nonFinite(row: 3, column: 1)) { try KMeans.fit(m, options: KMeans.Options(k: 2)) }
    }

    @Test func badK() {
        #expect(throws: LinalgError.invalidClusterCount(k: 0, rows: 6)) { try KMeans.fit(blobs, options: KMeans.Options(k: 0)) }
        #expect(throws: LinalgError.invalidClusterCount(k: 7, rows: 6)) { try KMeans.fit(blobs, options: KMeans.Options(k: 7)) }
        #expect(throws: LinalgError.invalidClusterCount(k: 7, rows: 6)) { try MiniBatchKMeans.fit(blobs, options: .init(k: 7)) }
    }

    @Test func zeroVariance() throws {
        let same = Matrix(rows: 10, cols: 3, repeating: 5)
        #expect(throws: LinalgError.zeroVariance) { try PCA.fit(same, components: .count(2)) }
        #expect(throws: LinalgError.tooFewDistinctPoints(k: 2)) { try KMeans.fit(same, options: KMeans.Options(k: 2)) }
        // k = 1 on identical points is well defined.
        #expect(try KMeans.fit(same, options: KMeans.Options(k: 1)).inertia == 0)
    }

    @Test func oneRow() throws {
        let one = try Matrix(rows: 1, cols: 3, storage: [1, 2, 3])
        #expect(throws: LinalgError.tooFewRows(operation: "PCA.fit", needed: 2, got: 1)) { try PCA.fit(one, components: .count(1)) }
        let model = try KMeans.fit(one, options: KMeans.Options(k: 1))
        #expect(model.labels == [0] && model.inertia == 0)
        #expect(throws: LinalgError.self) { try ClusterMetrics.silhouette(one, labels: [0]) }
    }

    @Test func mismatchedShapes() throws {
        #expect(throws: LinalgError.self) { try Matrix(rows: 2, cols: 3, storage: [1, 2, 3]) }
        #expect(throws: LinalgError.self) { try Matrix(rowArrays: [[1, 2], [3]]) }
        var opts = KMeans.Options(k: 2)
        opts.initialization = .centroids(Matrix(rows: 2, cols: 3))
        #expect(throws: LinalgError.self) { try KMeans.fit(blobs, options: opts) }
        let pca = try PCA.fit(blobs, components: .count(1))
        #expect(throws: LinalgError.self) { try pca.transform(Matrix(rows: 2, cols: 5)) }
        let model = try KMeans.fit(blobs, options: KMeans.Options(k: 2))
        #expect(throws: LinalgError.self) { try model.predict(Matrix(rows: 2, cols: 5)) }
        #expect(throws: LinalgError.self) { try ClusterMetrics.silhouette(blobs, labels: [0, 1]) }
        #expect(throws: LinalgError.self) { try PCA.fit(blobs, components: .count(3)) }
        #expect(throws: LinalgError.self) { try PCA.fit(blobs, components: .varianceFraction(1.5)) }
    }

    @Test func messagesSayWhatToDo() {
        let e = LinalgError.invalidClusterCount(k: 7, rows: 6)
        #expect(e.description.contains("choose 1 ≤ k"))
        #expect(LinalgError.nonFinite(row: 3, column: 1).description.contains("row 3"))
    }
}

@Suite("choosing k and the .npy format")
struct ChooseKAndNPYTests {
    @Test("k = auto finds the number of well-separated blobs and returns the whole curve")
    func autoK() throws {
        let f = try Fixture("metrics")  // 6 blobs
        let x = try f.x()
        var base = KMeans.Options(k: 2)
        base.restarts = 2
        let result = try ChooseK.choose(x, range: 2...10, base: base)
        #expect(result.curve.map(\.k) == Array(2...10))
        #expect(result.model.k == result.best)
        #expect((5...7).contains(result.best), "chose k = \(result.best): \(result.curve.map { ($0.k, $0.sampledSilhouette) })")
        #expect(ChooseK.candidates(2...200, maxCandidates: 10).count <= 10)
    }

    @Test func npyRoundTrip() throws {
        let m = try Matrix(rows: 3, cols: 2, storage: [1, 2, 3, 4, 5, -6.5])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("strata-\(UUID().uuidString).npy")
        defer { try? FileManager.default.removeItem(at: url) }
        try NPY.write(m, to: url)
        #expect(try NPY.readMatrix(from: url) == m)
        try Data([0x93, 0x4E, 0x55]).write(to: url)
        #expect(throws: NPY.Error.self) { try NPY.readMatrix(from: url) }
    }
}
