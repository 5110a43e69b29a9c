/// Errors of the numeric core. Each message says what was wrong and what to do about it.
public enum LinalgError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Two operands have incompatible shapes.
    case shapeMismatch(operation: String, expected: String, got: String)
    /// The input has no rows (or fewer than the operation needs).
    case tooFewRows(operation: String, needed: Int, got: Int)
    /// `k` is not in `1...n`.
    case invalidClusterCount(k: Int, rows: Int)
    /// A NaN or ±Inf value in the input.
    case nonFinite(row: Int, column: Int)
    /// A parameter is out of range.
    case invalidParameter(name: String, reason: String)
    /// Every column is constant, so there is no variance to decompose.
    case zeroVariance
    /// Fewer distinct points than requested clusters.
    case tooFewDistinctPoints(k: Int)
    /// A LAPACK routine returned a non-zero `info`.
    case lapackFailure(routine: String, info: Int)
    /// A matrix dimension exceeds what the 32-bit BLAS interface can address.
    case dimensionTooLarge(rows: Int, cols: Int)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, expected, got):
            return "\(op): shape mismatch — expected \(expected), got \(got)"
        case let .tooFewRows(op, needed, got):
            return "\(op): needs at least \(needed) row(s), got \(got); provide more data"
        case let .invalidClusterCount(k, rows):
            return "k = \(k) is invalid for \(rows) row(s): choose 1 ≤ k ≤ number of rows"
        case let .nonFinite(row, column):
            return "non-finite value (NaN or Inf) at row \(row), column \(column): clean or drop that row"
        case let .invalidParameter(name, reason):
            return "invalid parameter \(name): \(reason)"
        case .zeroVariance:
            return "the data has zero variance (all rows identical): nothing to decompose or cluster"
        case let .tooFewDistinctPoints(k):
            return "fewer than k = \(k) distinct points: lower k or add more varied data"
        case let .lapackFailure(routine, info):
            return "LAPACK \(routine) failed with info = \(info)"
        case let .dimensionTooLarge(rows, cols):
            return "matrix \(rows)×\(cols) exceeds the 32-bit BLAS interface: split the input"
        }
    }
}
