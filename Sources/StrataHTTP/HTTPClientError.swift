/// An error talking to an OpenAI-compatible HTTP endpoint. `code` is extensible (a struct, not an
/// enum) so new cases do not break callers; `description` says what to do next and never contains
/// the API key.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of failure this is (see the static members of ``ErrorCode`` for this layer).
    public typealias Code = ErrorCode<HTTPClientError>

    /// What went wrong and what to do, then the code and the HTTP status, if any.
    public var description: String {
        "\(message) [\(code)\(status.map { ", HTTP \($0)" } ?? "")]"
    }

    public let code: Code
    /// HTTP status of the last reply, when there was one.
    public let status: Int?
    public let message: String

    public init(_ code: Code, status: Int? = nil, _ message: String) {
        (self.code, self.status, self.message) = (code, status, message)
    }
}

extension ErrorCode where Layer == HTTPClientError {
    /// The server answered with a non-retryable status (4xx other than 408/429).
    public static var httpStatus: Self { Self("httpStatus") }
    /// Every attempt failed with a retryable status, timeout or transport error.
    public static var retriesExhausted: Self { Self("retriesExhausted") }
    /// The reply was not the JSON shape the endpoint promises.
    public static var malformedResponse: Self { Self("malformedResponse") }
    /// The configuration is unusable (bad URL, missing key where one is required).
    public static var configuration: Self { Self("configuration") }
}
