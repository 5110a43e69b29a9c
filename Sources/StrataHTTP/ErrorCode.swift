/// An extensible error code of one layer: a name that code can switch on, open to new cases in later
/// versions without breaking callers (a struct, not a closed enum).
///
/// `Layer` is the error type the code belongs to (e.g. ``HTTPClientError``), so codes of different
/// layers never compare equal. A layer declares its codes in a constrained extension:
/// `extension ErrorCode where Layer == MyError { public static var broken: Self { Self("broken") } }`.
/// It lives in StrataHTTP because that is the lowest module every layer with such codes imports.
public struct ErrorCode<Layer>: Hashable, Sendable, CustomStringConvertible {
    private let name: String
    /// A code named `name` (camelCase, as printed in messages).
    public init(_ name: String) { self.name = name }
    public var description: String { name }
}
