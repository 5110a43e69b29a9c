import Foundation
import StrataHTTP
import StrataLinalg

/// The token table of the static embedder: one row per vocabulary entry of the MiniLM tokenizer,
/// already multiplied by its token weight, so a text's vector is the L2-normalised sum of its tokens'
/// rows (see ``StaticEmbedder``).
///
/// On disk it is a safetensors file with one F32 tensor `embeddings` of shape [vocabulary, dimension]
/// and `__metadata__` strings that record its provenance (source model digest, recipe, dimension).
/// ``serialized()`` is deterministic: the same table gives the same bytes.
public struct StaticTable: Sendable, Equatable {
    /// The `strata.format` metadata value this build reads and writes.
    public static let format = "strata-static-table/1"
    /// Rows (vocabulary entries).
    public let vocabularySize: Int
    /// Columns (vector length).
    public let dimension: Int
    /// Row-major `vocabularySize × dimension` floats, token weights folded in.
    public let rows: [Float]
    /// Provenance, stored as the safetensors metadata: `strata.format`, `strata.source_model`,
    /// `strata.source_sha256`, `strata.recipe`, `strata.dimension`.
    public let provenance: [String: String]

    /// Wraps `rows` (`vocabularySize × dimension`, row-major). Adds `strata.format` and `strata.dimension`.
    public init(vocabularySize: Int, dimension: Int, rows: [Float], provenance: [String: String]) {
        precondition(rows.count == vocabularySize * dimension, "rows must hold vocabularySize × dimension floats")
        self.vocabularySize = vocabularySize
        self.dimension = dimension
        self.rows = rows
        var p = provenance
        p["strata.format"] = Self.format
        p["strata.dimension"] = String(dimension)
        self.provenance = p
    }

    /// The command that (re)builds the default table, quoted in every error about a missing or bad one.
    public static let rebuildHint = "run `strata distill` (or scripts/fetch-model.sh, which distills it when missing)"

    /// Where the table of `dimension` columns lives: `$STRATA_HOME/models/minilm-static/static-<dimension>.safetensors`
    /// (the model cache, beside all-MiniLM-L6-v2).
    public static func defaultURL(dimension: Int, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        CacheHome.directory(environment: environment)
            .appendingPathComponent("models/minilm-static/static-\(dimension).safetensors")
    }

    /// Reads a table written by ``write(to:)``.
    ///
    /// - Throws: ``EmbedError`` `.staticTableMissing` when the file does not exist, `.staticTableInvalid`
    ///   when it is not a safetensors file, lacks the `embeddings` tensor or the Strata metadata, or has a
    ///   non-finite entry; each names the file and the command that rebuilds it.
    public init(contentsOf url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw EmbedError(.staticTableMissing, path: url.path,
                             "The static embedder's table has not been distilled yet; \(Self.rebuildHint).")
        }
        func invalid(_ why: String) -> EmbedError {
            EmbedError(.staticTableInvalid, path: url.path,
                       "The static embedder's table is unusable (\(why)); delete it and \(Self.rebuildHint).")
        }
        let file: SafeTensors
        do { file = try SafeTensors(contentsOf: url) } catch { throw invalid("\(error)") }
        guard file.metadata["strata.format"] == Self.format else {
            throw invalid("strata.format is \(file.metadata["strata.format"].map { "\"\($0)\"" } ?? "missing"), expected \"\(Self.format)\"")
        }
        guard let info = file.tensors["embeddings"], info.shape.count == 2, info.shape[0] > 0, info.shape[1] > 0 else {
            throw invalid("no 2-D tensor named embeddings")
        }
        let values: [Float]
        do { values = try file.floats("embeddings") } catch { throw invalid("\(error)") }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw invalid("non-finite value in row \(bad / info.shape[1])")
        }
        self.init(vocabularySize: info.shape[0], dimension: info.shape[1], rows: values, provenance: file.metadata)
    }

    /// The safetensors bytes: 8-byte little-endian header length, the JSON header (keys sorted, padded
    /// with spaces to a multiple of 8), then the rows as little-endian F32.
    public func serialized() -> Data {
        func quoted(_ s: String) -> String {
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
                default: out.unicodeScalars.append(u)
                }
            }
            return out + "\""
        }
        let meta = provenance.keys.sorted().map { "\(quoted($0)):\(quoted(provenance[$0]!))" }.joined(separator: ",")
        let bytes = rows.count * 4
        var header = "{\"__metadata__\":{\(meta)},\"embeddings\":{\"dtype\":\"F32\",\"shape\":[\(vocabularySize),\(dimension)],\"data_offsets\":[0,\(bytes)]}}"
        while header.utf8.count % 8 != 0 { header += " " }
        var data = Data()
        data.reserveCapacity(8 + header.utf8.count + bytes)
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        rows.withUnsafeBufferPointer { p in
            for v in p { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        return data
    }

    /// Writes ``serialized()`` to `url` atomically: a temporary file in the same folder, then a rename,
    /// so a crash or a full disk leaves the previous table (or none) and no partial file.
    public func write(to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try serialized().write(to: url, options: .atomic)
        } catch {
            throw EmbedError(.unreadableFile, path: url.path, "Could not write the static table (\(error)); check the folder's space and permissions.")
        }
    }
}

/// The static embedder's codes, beside the table they are about.
extension ErrorCode where Layer == EmbedError {
    /// The table has not been distilled yet (run `strata distill`).
    public static var staticTableMissing: Self { Self("staticTableMissing") }
    /// The table is unreadable, truncated, or not a Strata static table.
    public static var staticTableInvalid: Self { Self("staticTableInvalid") }
}
