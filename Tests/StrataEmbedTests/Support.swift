import Foundation
import Testing
@testable import StrataEmbed

/// One line of Tests/StrataEmbedTests/Fixtures/minilm-reference.jsonl (sentence-transformers' output;
/// provenance in that folder's README).
struct ReferenceRecord: Decodable, Sendable {
    var text: String
    var input_ids: [Int32]
    var embedding: [Float]
}

enum Fixtures {
    /// The repository root (three levels above this file: Tests/StrataEmbedTests/Support.swift).
    static let repoRoot: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Inside the repository, so a clone made anywhere passes (it used to be read from ../shared).
    static let referenceURL = repoRoot.appendingPathComponent("Tests/StrataEmbedTests/Fixtures/minilm-reference.jsonl")

    /// The 144 reference records, in file order.
    static func reference() throws -> [ReferenceRecord] {
        let data: Data
        do { data = try Data(contentsOf: referenceURL) } catch {
            Issue.record("Reference fixtures not found at \(referenceURL.path): \(error)")
            throw error
        }
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n")).map {
            try decoder.decode(ReferenceRecord.self, from: Data($0))
        }
    }

    /// The model directory; records a failure telling how to fetch it when it is missing.
    static func modelDirectory() throws -> URL {
        let dir = MiniLMEncoder.defaultModelDirectory()
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) else {
            let message = "MiniLM model not found at \(dir.path); run scripts/fetch-model.sh (it honours STRATA_HOME) and rerun the tests."
            Issue.record(Comment(rawValue: message))
            throw EmbedError(.modelNotFound, path: dir.path, message)
        }
        return dir
    }
}

/// A fresh temporary directory, removed by the caller.
func makeTempDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("strata-embed-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
