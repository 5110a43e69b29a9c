import Foundation
import StrataLinalg

/// Loads the scikit-learn/SciPy reference fixtures written by scripts/reference/make_linalg_fixtures.py.
struct Fixture {
    let json: [String: Any]

    init(_ name: String) throws {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw FixtureError.missing(name)
        }
        json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    init(json: [String: Any]) { self.json = json }

    func int(_ key: String) -> Int { (json[key] as! NSNumber).intValue }
    func double(_ key: String) -> Double { (json[key] as! NSNumber).doubleValue }
    func doubles(_ key: String) -> [Double] { (json[key] as! [NSNumber]).map(\.doubleValue) }
    func floats(_ key: String) -> [Float] { (json[key] as! [NSNumber]).map(\.floatValue) }
    func ints(_ key: String) -> [Int] { (json[key] as! [NSNumber]).map(\.intValue) }
    func matrix(_ key: String, rows: Int, cols: Int) throws -> Matrix {
        try Matrix(rows: rows, cols: cols, storage: floats(key))
    }
    /// The data matrix `X` with shape (`n`, `d`).
    func x() throws -> Matrix { try matrix("X", rows: int("n"), cols: int("d")) }
}

enum FixtureError: Error { case missing(String) }

func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }
