import Foundation

/// Categorical colours for the report: as many as there are topics, each as far as possible from the
/// others and from the white page in CIELAB (greedy max–min over an in-gamut grid, Glasbey-style), so
/// 50+ topics stay distinguishable. Deterministic for a given count.
struct Palette {
    let colours: [Int: String]

    init(topicIDs: [Int]) {
        let picked = Palette.generate(topicIDs.count)
        colours = Dictionary(uniqueKeysWithValues: topicIDs.sorted().enumerated().map { ($1, picked[$0]) })
    }

    /// Colour of `topic`; grey for −1 (no topic).
    func callAsFunction(_ topic: Int) -> String { colours[topic] ?? "#9aa0a6" }

    static func generate(_ count: Int) -> [String] {
        var candidates: [(lab: (Double, Double, Double), hex: String)] = []
        for l in stride(from: 30.0, through: 75, by: 7.5) {
            for a in stride(from: -80.0, through: 80, by: 8) {
                for b in stride(from: -80.0, through: 80, by: 8) {
                    if let hex = srgbHex(l, a, b) { candidates.append(((l, a, b), hex)) }
                }
            }
        }
        // The page (white) and the no-topic grey count as taken.
        var taken: [(Double, Double, Double)] = [(100, 0, 0), (66, 0, 0)]
        var nearest = candidates.map { c in taken.map { distance(c.lab, $0) }.min()! }
        var out: [String] = []
        while out.count < count, !candidates.isEmpty {
            let i = nearest.indices.max { nearest[$0] < nearest[$1] }!
            out.append(candidates[i].hex)
            taken.append(candidates[i].lab)
            for j in candidates.indices { nearest[j] = min(nearest[j], distance(candidates[j].lab, candidates[i].lab)) }
        }
        return out
    }

    static func distance(_ p: (Double, Double, Double), _ q: (Double, Double, Double)) -> Double {
        ((p.0 - q.0) * (p.0 - q.0) + (p.1 - q.1) * (p.1 - q.1) + (p.2 - q.2) * (p.2 - q.2)).squareRoot()
    }

    /// CIELAB (D65) to an sRGB hex colour, nil outside the gamut.
    static func srgbHex(_ l: Double, _ a: Double, _ b: Double) -> String? {
        let fy = (l + 16) / 116, fx = fy + a / 500, fz = fy - b / 200
        func inv(_ t: Double) -> Double { t > 6.0 / 29 ? t * t * t : 3 * (6.0 / 29) * (6.0 / 29) * (t - 4.0 / 29) }
        let x = 0.95047 * inv(fx), y = inv(fy), z = 1.08883 * inv(fz)
        let linear = [3.2406 * x - 1.5372 * y - 0.4986 * z, -0.9689 * x + 1.8758 * y + 0.0415 * z, 0.0557 * x - 0.2040 * y + 1.0570 * z]
        guard linear.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { return nil }
        let srgb = linear.map { $0 <= 0.0031308 ? 12.92 * $0 : 1.055 * pow($0, 1 / 2.4) - 0.055 }
        return "#" + srgb.map { String(format: "%02x", Int(($0 * 255).rounded())) }.joined()
    }
}

/// Places topic labels on the map without collisions: largest topics first, each at the first free spot
/// on a spiral around its documents' centre (a thin leader line when moved), inside the map. A label
/// with no free spot within reach is left to the legend.
struct LabelPlacer {
    struct Placed { let topic: Int; let text: String; let x: Double; let y: Double; let anchorX: Double; let anchorY: Double }

    let width: Double, height: Double, pad: Double
    /// Estimated advance of one character of the 12 px semibold label font, and the box height.
    static let charWidth = 7.4, boxHeight = 17.0

    static func boxWidth(_ text: String) -> Double { Double(text.count) * charWidth + 8 }

    func place(_ labels: [(topic: Int, text: String, x: Double, y: Double)]) -> [Placed] {
        var boxes: [(Double, Double, Double, Double)] = []
        var out: [Placed] = []
        for l in labels {
            let w = Self.boxWidth(l.text), h = Self.boxHeight
            search: for r in stride(from: 0.0, through: 320, by: 9) {
                let steps = r == 0 ? 1 : max(8, Int(r / 5))
                for s in 0..<steps {
                    let angle = Double(s) / Double(steps) * 2 * .pi
                    let cx = l.x + r * cos(angle), cy = l.y + r * sin(angle) * 0.6
                    let box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                    guard box.0 >= pad, box.2 <= width - pad, box.1 >= pad, box.3 <= height - pad else { continue }
                    if boxes.contains(where: { box.0 < $0.2 && $0.0 < box.2 && box.1 < $0.3 && $0.1 < box.3 }) { continue }
                    boxes.append(box)
                    out.append(Placed(topic: l.topic, text: l.text, x: cx, y: cy, anchorX: l.x, anchorY: l.y))
                    break search
                }
            }
        }
        return out
    }
}
