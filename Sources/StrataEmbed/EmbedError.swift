/// An error from loading or running an embedding model.
///
/// `code` says what went wrong in a form that code can switch on; `description` says it in words,
/// names the file involved and tells the user what to do about it. New codes may be added in
/// later versions without breaking callers (``Code`` is a struct, not a closed enum).
public struct EmbedError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The model directory, or a required file in it, does not exist.
        public static let modelNotFound = Code("modelNotFound")
        /// A file exists but could not be read.
        public static let unreadableFile = Code("unreadableFile")
        /// The vocabulary file (`vocab.txt`) is missing.
        public static let vocabularyMissing = Code("vocabularyMissing")
        /// The vocabulary file is empty, has duplicate tokens, or lacks a required special token.
        public static let vocabularyInvalid = Code("vocabularyInvalid")
        /// A safetensors file is shorter than its header says.
        public static let safetensorsTruncated = Code("safetensorsTruncated")
        /// A safetensors header is malformed (bad length, bad JSON, inconsistent offsets or shapes).
        public static let safetensorsCorrupt = Code("safetensorsCorrupt")
        /// A tensor has an element type other than the one needed (e.g. F16 where F32 is needed).
        public static let unsupportedDType = Code("unsupportedDType")
        /// A tensor the model needs is not in the weights file.
        public static let tensorMissing = Code("tensorMissing")
        /// A tensor has a different shape than the model configuration implies.
        public static let tensorShapeMismatch = Code("tensorShapeMismatch")
        /// `config.json` is missing fields or describes an architecture this encoder does not run.
        public static let configInvalid = Code("configInvalid")
    }

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
