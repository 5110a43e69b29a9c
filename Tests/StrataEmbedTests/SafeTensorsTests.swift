import Foundation
import Testing
@testable import StrataEmbed

@Suite("safetensors reader")
struct SafeTensorsTests {
    /// Builds a safetensors file: 8-byte little-endian header length, JSON header, data.
    static func file(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> Data {
        let h = Array(header.utf8)
        let n = declaredLength ?? UInt64(h.count)
        var bytes: [UInt8] = (0 ..< 8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) }
        bytes += h
        bytes += data
        return Data(bytes)
    }

    static func floatBytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in (0 ..< 4).map { UInt8(truncatingIfNeeded: v.bitPattern.littleEndian >> (8 * UInt32($0))) } }
    }

    static let goodHeader = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"ids":{"dtype":"I64","shape":[2],"data_offsets":[24,40]}}"#
    static let goodData = floatBytes([1, 2, 3, 4, 5, 6]) + [UInt8](repeating: 0, count: 16)

    /// Writes `data` to a temp file, opens it, and returns the error code (nil when it opened).
    static func openError(_ data: Data) throws -> EmbedError.Code? {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        try data.write(to: url)
        do {
            _ = try SafeTensors(contentsOf: url)
            return nil
        } catch let error as EmbedError {
            #expect(error.path == url.path)
            #expect(error.description.contains("fetch-model.sh"))
            return error.code
        }
    }

    @Test("reads F32 tensors, shapes and metadata")
    func reads() throws {
        let st = try SafeTensors(data: Self.file(header: Self.goodHeader, data: Self.goodData))
        #expect(st.metadata == ["format": "pt"])
        #expect(st.tensors["a"]?.shape == [2, 3])
        #expect(try st.floats("a") == [1, 2, 3, 4, 5, 6])
        #expect(try st.floats("a", shape: [2, 3]).count == 6)
        #expect(try Self.openError(Self.file(header: Self.goodHeader, data: Self.goodData)) == nil)
    }

    @Test("wrong dtype, wrong shape and missing tensors are typed errors")
    func accessErrors() throws {
        let st = try SafeTensors(data: Self.file(header: Self.goodHeader, data: Self.goodData))
        #expect(throws: EmbedError.self) { _ = try st.floats("ids") }
        do { _ = try st.floats("ids") } catch let e as EmbedError { #expect(e.code == .unsupportedDType) }
        do { _ = try st.floats("a", shape: [3, 2]) } catch let e as EmbedError { #expect(e.code == .tensorShapeMismatch) }
        do { _ = try st.floats("nope") } catch let e as EmbedError { #expect(e.code == .tensorMissing) }
    }

    @Test("truncated files are reported as truncated")
    func truncated() throws {
        let good = Self.file(header: Self.goodHeader, data: Self.goodData)
        #expect(try Self.openError(Data()) == .safetensorsTruncated)
        #expect(try Self.openError(good.prefix(5)) == .safetensorsTruncated)
        #expect(try Self.openError(good.prefix(8 + 20)) == .safetensorsTruncated)       // inside the header
        #expect(try Self.openError(good.prefix(good.count - 1)) == .safetensorsTruncated) // inside the data
        // Every prefix fails cleanly (never crashes).
        for n in 0 ..< good.count {
            #expect(throws: EmbedError.self, "prefix of \(n) bytes") { _ = try SafeTensors(data: good.prefix(n)) }
        }
    }

    @Test("corrupt headers are reported as corrupt", arguments: [
        #"not json at all"#,
        #"[1,2,3]"#,
        #"{"a":{"dtype":"F33","shape":[2,3],"data_offsets":[0,24]}}"#,
        #"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#,
        #"{"a":{"dtype":"F32","shape":[2,-3],"data_offsets":[0,24]}}"#,
        #"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[24,0]}}"#,
        #"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0]}}"#,
        #"{"a":{"dtype":"F32","shape":[2,3]}}"#,
        #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,24]}}"#,
        #"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}"#,
        #"{"a":"F32"}"#,
    ])
    func corrupt(header: String) throws {
        #expect(try Self.openError(Self.file(header: header, data: Self.goodData)) == .safetensorsCorrupt)
    }

    @Test("absurd header lengths are corrupt, not allocations")
    func headerLength() throws {
        let huge = Self.file(header: Self.goodHeader, data: Self.goodData, declaredLength: UInt64.max)
        #expect(try Self.openError(huge) == .safetensorsCorrupt)
        let zero = Self.file(header: "", data: [], declaredLength: 0)
        #expect(try Self.openError(zero) == .safetensorsCorrupt)
    }

    @Test("a missing weights file says how to fetch the model")
    func missingFile() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = #expect(throws: EmbedError.self) {
            _ = try SafeTensors(contentsOf: dir.appendingPathComponent("model.safetensors"))
        }
        #expect(error?.code == .modelNotFound)
        #expect(error?.description.contains("scripts/fetch-model.sh") == true)
    }
}
