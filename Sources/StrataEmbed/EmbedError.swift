import StrataHTTP

/// An error from loading or running an embedding model.
///
/// `code` says what went wrong in a form that code can switch on; `description` says it in words,
/// names the file involved and tells the user what to do about it. New codes may be added in
/// later versions without breaking callers (``Code`` is a struct, not a closed enum).
public struct EmbedError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is (see the static members of ``ErrorCode`` for this layer).
    public typealias Code = ErrorCode<EmbedError>

    /// What kind of failure this is.
    public var code: Code
    /// The file the failure concerns, when there is one.
    public var path: String?
    /// A sentence saying what went wrong and what to do.
    public var message: String

    public init(_ code: Code, path: String? = nil, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String {
        if let path { return "\(message) [\(code): \(path)]" }
        return "\(message) [\(code)]"
    }
}

extension ErrorCode where Layer == EmbedError {
    /// The model directory, or a required file in it, does not exist.
    public static var modelNotFound: Self { Self("modelNotFound") }
    /// A file exists but could not be read.
    public static var unreadableFile: Self { Self("unreadableFile") }
    /// The vocabulary file (`vocab.txt`) is missing.
    public static var vocabularyMissing: Self { Self("vocabularyMissing") }
    /// The vocabulary file is empty, has duplicate tokens, or lacks a required special token.
    public static var vocabularyInvalid: Self { Self("vocabularyInvalid") }
    /// A safetensors file is shorter than its header says.
    public static var safetensorsTruncated: Self { Self("safetensorsTruncated") }
    /// A safetensors header is malformed (bad length, bad JSON, inconsistent offsets or shapes).
    public static var safetensorsCorrupt: Self { Self("safetensorsCorrupt") }
    /// A tensor has an element type other than the one needed (e.g. F16 where F32 is needed).
    public static var unsupportedDType: Self { Self("unsupportedDType") }
    /// A tensor the model needs is not in the weights file.
    public static var tensorMissing: Self { Self("tensorMissing") }
    /// A tensor has a different shape than the model configuration implies.
    public static var tensorShapeMismatch: Self { Self("tensorShapeMismatch") }
    /// `config.json` is missing fields or describes an architecture this encoder does not run.
    public static var configInvalid: Self { Self("configInvalid") }
}
