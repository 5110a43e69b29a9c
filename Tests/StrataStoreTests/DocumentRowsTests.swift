import Foundation
import Testing
@testable import StrataStore

@Suite("document rows (texts spilled to a nameless file)")
struct DocumentRowsTests {
    static let metadata: [String: MetadataValue] = [
        "n": .integer(-7), "x": .number(1.0), "y": .number(0.1), "flag": .bool(true), "off": .bool(false), "none": .null,
        "tags": .array([.string("é"), .integer(1), .array([])]), "nested": .object(["a": .string("b\n\"c\""), "empty": .object([:])]),
    ]

    /// Every field of every row reads back as it was appended, in memory and spilled, in order and out
    /// of order (the read-ahead block and single reads), with the SHA-256 an independent hash gives.
    @Test("rows read back exactly, spilled or in memory", arguments: [false, true])
    func roundTrip(spilled: Bool) throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rows = try DocumentRows(spillDirectory: spilled ? dir : nil)
        var expected: [Document] = []
        for i in 0..<3_000 {
            // Texts long enough that 3,000 of them pass the 1 MB append buffer and read-ahead block.
            let text = String(repeating: "passage \(i) ünïcödé ", count: 1 + i % 40)
            let meta = i % 3 == 0 ? [:] : Self.metadata.merging(["i": .integer(Int64(i))]) { a, _ in a }
            let location = i % 5 == 0 ? "/docs/\(i).txt" : "corpus.jsonl:\(i + 1)"
            expected.append(Document(id: "id-\(i)-ß", text: text, metadata: meta, location: location))
            try rows.append(id: "id-\(i)-ß", text: text, metadata: meta, location: location)
        }
        try rows.finish()
        #expect(rows.count == 3_000)
        if spilled {   // the file has no name: nothing is left in the directory
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        }
        let order = Array(0..<3_000) + [2_999, 0, 1_500, 7, 2_000, 1]
        for r in order {
            let d = Document(rows: rows, row: r)
            #expect(d == expected[r], "row \(r)")
            #expect(d.contentHash == SHA256.hex(expected[r].text))
            #expect(d.digestKey == expected[r].digestKey)
        }
    }

    /// Digest keys sort as the hex digests do, so samples taken in hash order stay the same.
    @Test("digest keys order as hex digests")
    func digestOrder() throws {
        let docs = (0..<500).map { Document(id: "\($0)", text: "text \($0)") }
        #expect(docs.sorted { $0.digestKey < $1.digestKey }.map(\.id) == docs.sorted { $0.contentHash < $1.contentHash }.map(\.id))
    }

    /// A spilled read through the collector still finds duplicate ids (by hash, then by text) and names
    /// the first occurrence.
    @Test("a spilled read refuses a duplicate id and names its first line")
    func duplicates() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/docs.jsonl"
        let lines = (0..<2_000).map { "{\"id\": \"d\($0)\", \"text\": \"text \($0)\"}" } + ["{\"id\": \"d1234\", \"text\": \"again\"}"]
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var options = ReadOptions()
        options.spillDirectory = dir
        #expect(throws: SourceError.self) { try SourceReader.read(.jsonl(path), options: options) }
        do { _ = try SourceReader.read(.jsonl(path), options: options) } catch let e as SourceError {
            #expect(e.description.contains("duplicate id \"d1234\" (first seen at \(path):1235)"))
            #expect(e.description.contains(":2001"))
        }
        options.skipInvalid = true
        let read = try SourceReader.read(.jsonl(path), options: options)
        #expect(read.documents.count == 2_000 && read.skipped == 1)
        #expect(read.documents[1234].text == "text 1234")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["docs.jsonl"])
    }
}
