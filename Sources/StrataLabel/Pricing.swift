import Foundation

/// Per-model token prices in USD per million tokens.
public struct PriceTable: Sendable, Equatable {
    public struct Price: Sendable, Equatable, Codable {
        public let input: Double
        public let output: Double
        public let cachedInput: Double?
        enum CodingKeys: String, CodingKey { case input, output, cachedInput = "cached_input" }
        public init(input: Double, output: Double, cachedInput: Double? = nil) {
            self.input = input; self.output = output; self.cachedInput = cachedInput
        }
    }

    public let models: [String: Price]

    struct File: Decodable { let models: [String: Price] }

    /// Parses a price file: `{"models": {"NAME": {"input": USD, "output": USD, "cached_input": USD}}}`.
    public init(json: Data) throws {
        models = try JSONDecoder().decode(File.self, from: json).models
    }

    /// The table shipped with Strata.
    public static func shipped() throws -> PriceTable {
        guard let url = Bundle.module.url(forResource: "prices", withExtension: "json") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try PriceTable(json: Data(contentsOf: url))
    }

    /// The shipped table overridden (per model) by a user file.
    public static func load(overrides path: String?) throws -> PriceTable {
        let base = try shipped()
        guard let path else { return base }
        let user = try PriceTable(json: Data(contentsOf: URL(fileURLWithPath: path)))
        return PriceTable(models: base.models.merging(user.models) { _, new in new })
    }

    public init(models: [String: Price]) { self.models = models }

    /// Price for a model name; local servers (any `local`/`minilm` name or a model not in the table
    /// when `assumeLocal`) cost nothing. Returns nil for an unknown paid model.
    public func price(for model: String) -> Price? {
        if let p = models[model] { return p }
        // Versioned names ("gpt-4o-mini-2024-07-18") match their base entry.
        if let base = models.keys.filter({ model.hasPrefix($0 + "-") }).max(by: { $0.count < $1.count }) { return models[base] }
        return nil
    }

    /// USD for the given token counts.
    public func cost(model: String, input: Int, output: Int, cachedInput: Int = 0) -> Double? {
        guard let p = price(for: model) else { return nil }
        return (Double(input) * p.input + Double(output) * p.output + Double(cachedInput) * (p.cachedInput ?? p.input)) / 1e6
    }
}
