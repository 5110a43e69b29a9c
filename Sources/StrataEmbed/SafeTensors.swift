import Foundation

/// A read-only view of a [safetensors](https://github.com/huggingface/safetensors) file.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of UTF-8 JSON mapping tensor names to
/// `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the byte after the header),
/// an optional `"__metadata__"` object of strings, then the raw little-endian tensor data.
///
/// Everything in the header is validated when the file is opened: the header length against the file
/// size, the JSON, every dtype name, every shape, and every `data_offsets` pair against the data size,
/// the shape (`end - begin == product(shape) × dtype size`) and the other tensors (no overlaps). A
/// truncated or corrupt file therefore fails with an ``EmbedError`` at open time and never crashes
/// later. The file is memory-mapped, so opening costs O(header size); ``floats(_:)`` copies one tensor
/// (O(its size)).
public struct SafeTensors: Sendable {
    /// Element types defined by the safetensors format.
    public enum DType: String, Sendable, CaseIterable {
        case bool = "BOOL", u8 = "U8", i8 = "I8", f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3"
        case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
        case i32 = "I32", u32 = "U32", f32 = "F32"
        case i64 = "I64", u64 = "U64", f64 = "F64"

        /// Bytes per element.
        public var byteSize: Int {
            switch self {
            case .bool, .u8, .i8, .f8e5m2, .f8e4m3: 1
            case .i16, .u16, .f16, .bf16: 2
            case .i32, .u32, .f32: 4
            case .i64, .u64, .f64: 8
            }
        }
    }

    /// One tensor's entry in the header.
    public struct TensorInfo: Sendable, Equatable {
        public var name: String
        public var dtype: DType
        /// Dimensions, outermost first (row-major).
        public var shape: [Int]
        /// Byte range within the data section (after the header).
        public var byteRange: Range<Int>
        /// Number of elements (product of `shape`; 1 for a scalar).
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// Largest header accepted (the format's own limit is 100 MB).
    public static let maxHeaderBytes = 100_000_000

    /// Where the file was read from, if it came from a file.
    public let path: String?
    /// The `__metadata__` strings (e.g. `["format": "pt"]`).
    public let metadata: [String: String]
    /// Every tensor in the file by name.
    public let tensors: [String: TensorInfo]

    private let bytes: Data
    private let dataStart: Int

    /// Opens and validates a safetensors file, memory-mapping it.
    ///
    /// - Throws: ``EmbedError`` with code `.modelNotFound` when the file does not exist,
    ///   `.unreadableFile`, `.safetensorsTruncated` or `.safetensorsCorrupt`.
    public init(contentsOf url: URL) throws {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw EmbedError(.modelNotFound, path: path,
                             "Weights file not found; run scripts/fetch-model.sh to download the model.")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw EmbedError(.unreadableFile, path: path,
                             "Could not read the weights file (\(error.localizedDescription)); check its permissions.")
        }
        try self.init(data: data, path: path)
    }

    /// Parses and validates safetensors bytes already in memory.
    ///
    /// - Parameter path: used only in error messages.
    public init(data: Data, path: String? = nil) throws {
        self.path = path
        let refetch = " Delete it and run scripts/fetch-model.sh again."
        func corrupt(_ why: String) -> EmbedError {
            EmbedError(.safetensorsCorrupt, path: path, "Corrupt safetensors file: \(why).\(refetch)")
        }
        func truncated(_ why: String) -> EmbedError {
            EmbedError(.safetensorsTruncated, path: path, "Truncated safetensors file: \(why).\(refetch)")
        }

        let size = data.count
        guard size >= 8 else { throw truncated("\(size) bytes, fewer than the 8-byte header length") }
        let headerLength: UInt64 = data.withUnsafeBytes { raw in
            var value: UInt64 = 0
            for i in 0..<8 { value |= UInt64(raw[i]) << (8 * UInt64(i)) }
            return value
        }
        guard headerLength >= 2, headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw corrupt("header length \(headerLength) is outside 2…\(Self.maxHeaderBytes) bytes")
        }
        let headerEnd = 8 + Int(headerLength)
        guard headerEnd <= size else {
            throw truncated("header needs \(headerLength) bytes but only \(size - 8) follow the length")
        }
        let headerBytes = data.subdata(in: data.startIndex + 8 ..< data.startIndex + headerEnd)

        let raw: [String: HeaderEntry]
        do {
            raw = try JSONDecoder().decode([String: HeaderEntry].self, from: headerBytes)
        } catch {
            throw corrupt("the header is not a JSON object of tensor entries (\(Self.describe(error)))")
        }

        let dataSize = size - headerEnd
        var metadata: [String: String] = [:]
        var tensors: [String: TensorInfo] = [:]
        for (name, entry) in raw {
            switch entry {
            case .metadata(let m):
                guard name == "__metadata__" else { throw corrupt("entry '\(name)' is not a tensor") }
                metadata = m
            case .tensor(let dtypeName, let shape, let offsets):
                guard name != "__metadata__" else { throw corrupt("__metadata__ must map strings to strings") }
                guard let dtype = DType(rawValue: dtypeName) else {
                    throw corrupt("tensor '\(name)' has unknown dtype '\(dtypeName)'")
                }
                guard shape.allSatisfy({ $0 >= 0 }) else {
                    throw corrupt("tensor '\(name)' has a negative dimension in shape \(shape)")
                }
                guard offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
                    throw corrupt("tensor '\(name)' has invalid data_offsets \(offsets)")
                }
                var bytesNeeded = dtype.byteSize
                for d in shape {
                    let (p, overflow) = bytesNeeded.multipliedReportingOverflow(by: d)
                    guard !overflow else { throw corrupt("tensor '\(name)' shape \(shape) overflows") }
                    bytesNeeded = p
                }
                guard offsets[1] - offsets[0] == bytesNeeded else {
                    throw corrupt("tensor '\(name)' (\(dtypeName) \(shape)) needs \(bytesNeeded) bytes but data_offsets \(offsets) span \(offsets[1] - offsets[0])")
                }
                guard offsets[1] <= dataSize else {
                    throw truncated("tensor '\(name)' ends at byte \(offsets[1]) of the data section but the file holds only \(dataSize)")
                }
                tensors[name] = TensorInfo(name: name, dtype: dtype, shape: shape,
                                           byteRange: offsets[0] ..< offsets[1])
            }
        }
        // Tensors must not share bytes.
        let ordered = tensors.values.filter { !$0.byteRange.isEmpty }
            .sorted { $0.byteRange.lowerBound < $1.byteRange.lowerBound }
        for (a, b) in zip(ordered, ordered.dropFirst()) where b.byteRange.lowerBound < a.byteRange.upperBound {
            throw corrupt("tensors '\(a.name)' and '\(b.name)' overlap")
        }

        self.metadata = metadata
        self.tensors = tensors
        self.bytes = data
        self.dataStart = headerEnd
    }

    /// The tensor's elements as `Float`, copied out of the file (O(elements)).
    ///
    /// - Parameter shape: when given, the tensor must have exactly this shape.
    /// - Throws: ``EmbedError`` `.tensorMissing`, `.unsupportedDType` (only F32 is read) or
    ///   `.tensorShapeMismatch`.
    public func floats(_ name: String, shape: [Int]? = nil) throws -> [Float] {
        guard let info = tensors[name] else {
            throw EmbedError(.tensorMissing, path: path,
                             "Tensor '\(name)' is not in the weights file; is this the right model? Run scripts/fetch-model.sh to get all-MiniLM-L6-v2.")
        }
        guard info.dtype == .f32 else {
            throw EmbedError(.unsupportedDType, path: path,
                             "Tensor '\(name)' is \(info.dtype.rawValue) but only F32 weights are supported; use a float32 checkpoint.")
        }
        if let shape, shape != info.shape {
            throw EmbedError(.tensorShapeMismatch, path: path,
                             "Tensor '\(name)' has shape \(info.shape) but the model configuration needs \(shape); the weights do not match config.json.")
        }
        let count = info.elementCount
        let start = dataStart + info.byteRange.lowerBound
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            bytes.withUnsafeBytes { raw in
                let src = UnsafeRawBufferPointer(rebasing: raw[start ..< start + count * 4])
                let dst = UnsafeMutableRawBufferPointer(out)
                dst.copyMemory(from: src)
            }
            #if _endian(big)
            for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) }
            #endif
            initialized = count
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): c.debugDescription
        case DecodingError.typeMismatch(_, let c): "\(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
        case DecodingError.keyNotFound(let k, let c): "\(c.codingPath.map(\.stringValue).joined(separator: ".")): missing '\(k.stringValue)'"
        default: "\(error)"
        }
    }
}

/// One value of the header object: a tensor entry or the `__metadata__` string map.
private enum HeaderEntry: Decodable {
    case tensor(dtype: String, shape: [Int], offsets: [Int])
    case metadata([String: String])

    private enum Keys: String, CodingKey { case dtype, shape, data_offsets }

    init(from decoder: Decoder) throws {
        let keyed = try decoder.container(keyedBy: Keys.self)
        if keyed.contains(.dtype) || keyed.contains(.shape) || keyed.contains(.data_offsets) {
            self = .tensor(dtype: try keyed.decode(String.self, forKey: .dtype),
                           shape: try keyed.decode([Int].self, forKey: .shape),
                           offsets: try keyed.decode([Int].self, forKey: .data_offsets))
        } else {
            self = .metadata(try decoder.singleValueContainer().decode([String: String].self))
        }
    }
}
