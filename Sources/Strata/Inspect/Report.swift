import Foundation
import StrataLinalg
import StrataStore

/// `strata report`: one self-contained HTML page (inline SVG, CSS and a few lines of script; no
/// network) with a 2-D map of the documents, topic sizes, the hierarchy, every topic's label,
/// description, keywords and representative documents, quality figures and drift.
public enum Report {
    /// Most points drawn on the map; larger corpora are sampled (evenly, deterministic).
    public static let maxPoints = 20_000

    public struct Summary: Sendable {
        public let points: Int
        public let topics: Int
        public let bytes: Int
    }

    /// Renders the state's current topics to `out`. O(n·d·2) for the projection.
    public static func write(stateDirectory: String, to out: String) throws -> Summary {
        let (state, previous) = try CommittedState.previous(stateDirectory)
        let doc = previous.document
        let stored = try state.searchableDocuments(model: previous.model.fingerprint)
        let n = stored.ids.count
        // Sample evenly, then project the fitted (PCA, unit-row) space onto its two most discriminating
        // directions for the topics (Fisher's LDA): the first two principal components put most topics on
        // top of each other.
        let step = max(1, Int((Double(n) / Double(maxPoints)).rounded(.up)))
        let picked = Array(stride(from: 0, to: n, by: step))
        var xy: [(Float, Float)] = []
        if !picked.isEmpty && stored.dimension == previous.model.inputDimension {
            var rows = [Float](); rows.reserveCapacity(picked.count * stored.dimension)
            for i in picked { rows += stored.vectors[(i * stored.dimension)..<((i + 1) * stored.dimension)] }
            let m = try Matrix(rows: picked.count, cols: stored.dimension, storage: rows)
            let y = try previous.model.pca().transform(m).normalizedRows()
            let plane = Similarity.cosines(y, try Discriminant.directions(y, labels: picked.map { stored.topics[$0] }))
            xy = (0..<plane.rows).map { (plane[$0, 0], plane.cols > 1 ? plane[$0, 1] : 0) }
        }
        let snippets = Dictionary(uniqueKeysWithValues: zip(stored.ids, stored.snippets).map { ($0, $1) })
        let html = render(doc, points: picked.enumerated().map { (k, i) in
            Point(x: xy.isEmpty ? 0 : xy[k].0, y: xy.isEmpty ? 0 : xy[k].1, topic: stored.topics[i], id: stored.ids[i], snippet: stored.snippets[i])
        }, totalDocuments: n, snippets: snippets)
        let data = Data(html.utf8)
        try AtomicFile.write(out, data: data)
        return Summary(points: picked.count, topics: doc.topics.count, bytes: data.count)
    }

    struct Point {
        let x: Float, y: Float
        let topic: Int
        let id: String
        let snippet: String
    }

    static let htmlEntities: [Unicode.Scalar: String] = ["&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"]

    /// `s` safe inside HTML text and attribute values.
    static func escape(_ s: String) -> String { Export.replacing(s) { htmlEntities[$0] } }

    static func f1(_ x: Double) -> String { String(format: "%.1f", x) }

    static func fmt(_ x: Double?, _ digits: Int = 3) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "–" }

    static func render(_ doc: TopicsDocument, points: [Point], totalDocuments: Int, snippets: [String: String]) -> String {
        let topics = doc.topics
        let labelOf = Dictionary(uniqueKeysWithValues: topics.map { ($0.id, $0.label) })
        let palette = Palette(topicIDs: topics.map(\.id))
        let map = mapSVG(points, topics: topics, labelOf: labelOf, palette: palette)
        let legend = legendHTML(topics, palette: palette)
        let bars = barsSVG(topics, palette: palette)
        let tree = treeHTML(doc.hierarchy, topics: topics, labelOf: labelOf, palette: palette)
        let cards = cardsHTML(topics, snippets: snippets, palette: palette)
        let quality = qualityHTML(doc.quality)
        let drift = driftHTML(doc.drift, labelOf: labelOf)
        let timeline = doc.overTime.map { "<section class=\"block\"><h2>Over time</h2>\n" + overTimeSVG($0, topics: topics, palette: palette) + "</section>" } ?? ""
        let run = doc.run
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Strata topics · \(escape(run.source))</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>
            \(style)
            </style></head><body>
            <h1>Topics of \(escape(run.source))</h1>
            <p class="meta">run <code>\(escape(run.id))</code> · \(escape(run.finished)) · \(run.counts.documents) documents · \(topics.count) topics · \(escape(run.embedder.name)) embeddings · PCA \(run.pca.components) components · labels by \(escape(run.labeler.name)) · Strata \(escape(run.strataVersion))</p>
            <section class="block"><h2>Map</h2>
            <p class="meta">\(points.count) of \(totalDocuments) documents on the two directions of the fitted space that best separate the topics (linear discriminants); hover a point for its text; find or click a topic to highlight it.</p>
            <input id="find" type="search" placeholder="Find a topic by label or keyword" aria-label="find a topic">
            \(map)
            \(legend)</section>
            <section class="block"><h2>Topic sizes</h2>
            \(bars)</section>
            \(timeline)
            <section class="block"><h2>Hierarchy</h2>
            \(tree)</section>
            <section class="block"><h2>Quality</h2>
            \(quality)</section>
            <section class="block"><h2>Drift since the previous run</h2>
            \(drift)</section>
            <h2>Topics</h2>
            <div class="cards">
            \(cards)</div>
            <script>
            \(script)
            </script>
            </body></html>

            """
    }

    /// The document map: one point per sampled document, topic labels placed without collisions.
    static func mapSVG(_ points: [Point], topics: [Topic], labelOf: [Int: String], palette: Palette) -> String {
        let w = 1000.0, h = 640.0, pad = 24.0
        let xs = points.map { Double($0.x) }, ys = points.map { Double($0.y) }
        let (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1), (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        func sx(_ v: Double) -> Double { pad + (v - x0) / max(x1 - x0, 1e-9) * (w - 2 * pad) }
        func sy(_ v: Double) -> Double { h - pad - (v - y0) / max(y1 - y0, 1e-9) * (h - 2 * pad) }
        var map = "<svg id=\"map\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" data-points=\"\(points.count)\" role=\"img\" aria-label=\"document map\">\n"
        var sum: [Int: (Double, Double, Int)] = [:]
        for p in points {
            let cx = sx(Double(p.x)), cy = sy(Double(p.y))
            let s = sum[p.topic] ?? (0, 0, 0)
            sum[p.topic] = (s.0 + cx, s.1 + cy, s.2 + 1)
            map += "<circle class=\"pt\" data-t=\"\(p.topic)\" cx=\"\(f1(cx))\" cy=\"\(f1(cy))\" r=\"2.2\" fill=\"\(palette(p.topic))\">"
                + "<title>\(escape(labelOf[p.topic] ?? "no topic")) · \(escape(p.id)): \(escape(String(p.snippet.prefix(160))))</title></circle>\n"
        }
        let wanted = topics.sorted { $0.size > $1.size }.compactMap { t -> (topic: Int, text: String, x: Double, y: Double)? in
            guard let s = sum[t.id], s.2 > 0 else { return nil }
            let text = t.label.count > 28 ? String(t.label.prefix(27)) + "…" : t.label
            return (t.id, text, s.0 / Double(s.2), s.1 / Double(s.2))
        }
        for l in LabelPlacer(width: w, height: h, pad: 4).place(wanted) {
            if abs(l.x - l.anchorX) + abs(l.y - l.anchorY) > 12 {
                map += "<line class=\"leader\" x1=\"\(f1(l.anchorX))\" y1=\"\(f1(l.anchorY))\" x2=\"\(f1(l.x))\" y2=\"\(f1(l.y))\"/>\n"
            }
            map += "<text class=\"maplabel\" data-t=\"\(l.topic)\" x=\"\(f1(l.x))\" y=\"\(f1(l.y + 4))\">\(escape(l.text))</text>\n"
        }
        return map + "</svg>"
    }

    /// Documents per period of the `--time-field`, stacked by topic (the eight largest; the rest as
    /// "other"), periods chosen to give at most ~60 bars.
    static func overTimeSVG(_ timeline: Timeline, topics: [Topic], palette: Palette) -> String {
        let g = timeline.naturalGranularity
        let (periods, counts) = timeline.series(g)
        let shown = counts.keys.filter { $0 >= 0 }.sorted { counts[$0]!.reduce(0, +) > counts[$1]!.reduce(0, +) }.prefix(8)
        let totals = periods.indices.map { p in counts.values.reduce(0) { $0 + $1[p] } }
        let w = 1000.0, h = 240.0, left = 50.0, bottom = 40.0
        let barW = (w - left) / Double(max(1, periods.count))
        let top = Double(max(1, totals.max() ?? 1))
        let label = Dictionary(uniqueKeysWithValues: topics.map { ($0.id, $0.label) })
        var svg = "<svg id=\"timeline\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" role=\"img\" aria-label=\"documents per \(g.rawValue) by topic\">\n"
        svg += "<text x=\"0\" y=\"12\" class=\"barvalue\">\(Int(top))</text><text x=\"0\" y=\"\(f1(h - bottom))\" class=\"barvalue\">0</text>\n"
        for (p, period) in periods.enumerated() {
            var y = h - bottom
            let x = left + Double(p) * barW
            let other = totals[p] - shown.reduce(0) { $0 + counts[$1]![p] }
            for (t, n) in shown.map({ ($0, counts[$0]![p]) }) + [(-1, other)] where n > 0 {
                let height = Double(n) / top * (h - bottom - 10)
                y -= height
                svg += "<rect x=\"\(f1(x + 1))\" y=\"\(f1(y))\" width=\"\(f1(max(1, barW - 2)))\" height=\"\(f1(height))\" fill=\"\(palette(t))\">"
                    + "<title>\(escape(period)) · \(escape(t < 0 ? "other topics" : label[t] ?? "")): \(n)</title></rect>"
            }
            if p % max(1, periods.count / 10) == 0 {
                svg += "<text x=\"\(f1(x + barW / 2))\" y=\"\(f1(h - bottom + 14))\" class=\"barvalue\" text-anchor=\"middle\">\(escape(period))</text>"
            }
        }
        svg += "\n</svg><p class=\"meta\">Documents per \(g.rawValue) of <code>\(escape(timeline.field))</code>; the eight largest topics: "
            + shown.map { "<span class=\"sw\" style=\"background:\(palette($0))\"></span>\(escape(label[$0] ?? ""))" }.joined(separator: " ")
            + (timeline.undated > 0 ? " · \(timeline.undated) undated documents left out" : "") + "</p>"
        return svg
    }

    /// Every topic with its colour, size and label confidence; a click highlights it on the map.
    static func legendHTML(_ topics: [Topic], palette: Palette) -> String {
        var html = "<div id=\"legend\">"
        for t in topics.sorted(by: { $0.size > $1.size }) {
            let low = lowConfidence(t) ? " <span class=\"low\" title=\"the label's embedding is barely nearer this topic than another\">⚠</span>" : ""
            html += "<button class=\"lg\" data-t=\"\(t.id)\" data-k=\"\(escape((t.label + " " + t.keywords.joined(separator: " ")).lowercased()))\">"
                + "<span class=\"sw\" style=\"background:\(palette(t.id))\"></span>\(t.id) · \(escape(t.label))\(low) <small>\(t.size)</small></button>"
        }
        return html + "</div>"
    }

    /// A label whose verification margin is this small names its topic barely better than another.
    static func lowConfidence(_ t: Topic) -> Bool { (t.labelConfidence ?? 1) < 0.02 }

    /// Topic sizes, largest first; a click highlights the topic on the map.
    static func barsSVG(_ topics: [Topic], palette: Palette) -> String {
        let maxSize = Double(topics.map(\.size).max() ?? 1)
        let barH = 22.0
        var bars = "<svg id=\"bars\" viewBox=\"0 0 1000 \(Int(Double(topics.count) * barH + 8))\" role=\"img\" aria-label=\"topic sizes\">\n"
        for (i, t) in topics.sorted(by: { $0.size > $1.size }).enumerated() {
            let y = 4 + Double(i) * barH
            let width = max(1, Double(t.size) / max(maxSize, 1) * 600)
            bars += "<g class=\"barrow\" data-t=\"\(t.id)\"><text x=\"0\" y=\"\(f1(y + 15))\" class=\"barlabel\">\(t.id) · \(escape(String(t.label.prefix(40))))</text>"
            bars += "<rect class=\"bar\" data-t=\"\(t.id)\" x=\"330\" y=\"\(f1(y + 3))\" width=\"\(f1(width))\" height=\"\(f1(barH - 6))\" fill=\"\(palette(t.id))\">"
                + "<title>\(escape(t.label)): \(t.size) documents (\(f1(t.share * 100))%)</title></rect>"
            bars += "<text x=\"\(f1(336 + width))\" y=\"\(f1(y + 15))\" class=\"barvalue\">\(t.size)</text></g>\n"
        }
        return bars + "</svg>"
    }

    /// Parents and their children (or the flat topic list without a hierarchy). A parent named like one
    /// of its children is shown by its children's ids instead (the tree never reads "X › X").
    static func treeHTML(_ hierarchy: [ParentTopic], topics: [Topic], labelOf: [Int: String], palette: Palette) -> String {
        var tree = "<ul class=\"tree\">"
        if hierarchy.isEmpty {
            for t in topics { tree += "<li><span class=\"sw\" style=\"background:\(palette(t.id))\"></span>\(t.id) · \(escape(t.label))</li>" }
        } else {
            for p in hierarchy {
                let childLabels = Set(p.children.compactMap { labelOf[$0]?.lowercased() })
                let name = childLabels.contains(p.label.lowercased()) ? "Topics " + p.children.map(String.init).joined(separator: ", ") : p.label
                tree += "<li><b>\(escape(name))</b><ul>"
                for c in p.children { tree += "<li><span class=\"sw\" style=\"background:\(palette(c))\"></span>\(c) · \(escape(labelOf[c] ?? ""))</li>" }
                tree += "</ul></li>"
            }
        }
        return tree + "</ul>"
    }

    /// One card per topic: label (flagged when its confidence is low), description, keywords, excerpts.
    static func cardsHTML(_ topics: [Topic], snippets: [String: String], palette: Palette) -> String {
        var cards = ""
        for t in topics {
            let confidence = t.labelConfidence.map { " · confidence " + String(format: "%.2f", $0) } ?? ""
            cards += "<section class=\"card\" id=\"topic-\(t.id)\"><h3><span class=\"sw\" style=\"background:\(palette(t.id))\"></span>\(t.id) · \(escape(t.label)) <small>\(t.size) documents · \(String(format: "%.1f", t.share * 100))% · \(t.labelSource.rawValue)\(confidence)</small></h3>"
            if lowConfidence(t) { cards += "<p class=\"low\">⚠ Low-confidence label: its embedding is barely nearer this topic than another. Check it, or rename it with <code>strata topics rename \(t.id) \"…\"</code>.</p>" }
            if !t.description.isEmpty { cards += "<p>\(escape(t.description))</p>" }
            cards += "<p class=\"kw\">" + t.keywords.map { "<span>\(escape($0))</span>" }.joined() + "</p><ol class=\"reps\">"
            for r in t.representativeIDs { cards += "<li><code>\(escape(r))</code> \(escape(String((snippets[r] ?? "").prefix(240))))</li>" }
            cards += "</ol></section>\n"
        }
        return cards
    }

    /// Cluster-quality figures, each with a line on how to read it, and the evaluation's when
    /// `strata eval` recorded one.
    static func qualityHTML(_ q: Quality) -> String {
        func row(_ name: String, _ value: String, _ meaning: String) -> String {
            "<tr><th>\(name)</th><td>\(value)</td><td class=\"why\">\(meaning)</td></tr>"
        }
        var quality = "<table class=\"figs\">"
        quality += row("sampled silhouette", fmt(q.silhouetteSampled), "−1…1: how much nearer documents are to their own topic than to the next; above 0 is separated")
        quality += row("simplified silhouette", fmt(q.simplifiedSilhouette), "the same against topic centres (cheaper, a little higher)")
        quality += row("Calinski–Harabasz", fmt(q.calinskiHarabasz, 1), "between- over within-topic spread; higher is better, comparable only on one corpus")
        quality += row("Davies–Bouldin", fmt(q.daviesBouldin), "how alike each topic is to its nearest other; lower is better, 0 is ideal")
        if let e = q.evaluation {
            if let f = e.truthField {
                quality += row("NMI / AMI / ARI / purity vs <code>\(escape(f))</code>", "\(fmt(e.nmi)) / \(fmt(e.ami)) / \(fmt(e.ari)) / \(fmt(e.purity))",
                               "agreement with your labels: 1 is identical, AMI and ARI ≈ 0 by chance")
            }
            quality += row("label fidelity (with centroids)", "\(fmt(e.labelFidelity)) (\(fmt(e.centroidFidelity)))",
                           "share of documents whose nearest label is their own topic's (centroids: the best a single vector does)")
            quality += row("keyword NPMI", fmt(e.keywordNPMI), "−1…1: how often a topic's keywords occur together; above 0 is coherent")
            quality += row("topic diversity", fmt(e.topicDiversity), "share of distinct words among all topics' keywords; 1 means no repeats")
        }
        return quality + "</table>"
    }

    /// What changed since the previous run.
    static func driftHTML(_ d: Drift?, labelOf: [Int: String]) -> String {
        var drift = "<p>First run: no drift yet.</p>"
        if let d, d.previousRun != nil {
            drift = "<table class=\"figs\"><tr><th>mode</th><td>\(escape(d.mode))\(d.refitReason.map { " (" + escape($0) + ")" } ?? "")</td></tr>"
            drift += "<tr><th>new topics</th><td>\(d.new.map { "\($0) · " + escape(labelOf[$0] ?? "") }.joined(separator: "<br>"))</td></tr>"
            drift += "<tr><th>retired topics</th><td>\(d.retired.map(String.init).joined(separator: ", "))</td></tr>"
            drift += "<tr><th>relabelled</th><td>\(d.relabelled.map { "\($0) · " + escape(labelOf[$0] ?? "") }.joined(separator: "<br>"))</td></tr>"
            drift += "<tr><th>splits / merges</th><td>\(d.splits.map { "\($0.topic) from \($0.splitFrom)" }.joined(separator: ", ")) / \(d.merges.map { "\($0.topic) into \($0.mergedInto)" }.joined(separator: ", "))</td></tr>"
            drift += "<tr><th>documents</th><td>\(d.documentsNew) new, \(d.documentsChanged) changed, \(d.documentsRemoved) removed, \(d.documentsChangedTopic) changed topic, \(d.documentsUnassigned) without a topic</td></tr></table>"
        }
        return drift
    }

    static let style = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1180px;padding:16px 24px;color:#1f2328}
        h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px;break-after:avoid-page}
        h3{font-size:15px;margin:0 0 6px}small{color:#656d76;font-weight:normal}.meta{color:#656d76}
        svg{width:100%;height:auto;display:block}#map{border:1px solid #d0d7de;border-radius:6px;background:#fbfbfc}
        .maplabel{font-size:12px;font-weight:600;text-anchor:middle;paint-order:stroke;stroke:#fff;stroke-width:3px;cursor:pointer}
        .leader{stroke:#8c959f;stroke-width:.8}
        #map.focus .pt{opacity:.06}#map.focus .pt.on{opacity:1}#map.focus .maplabel{opacity:.25}#map.focus .maplabel.on{opacity:1}
        #find{width:320px;max-width:100%;padding:5px 8px;margin:0 0 8px;border:1px solid #d0d7de;border-radius:6px;font:inherit}
        #legend{display:flex;flex-wrap:wrap;gap:4px 6px;margin:8px 0}
        .lg{font:12px/1.3 system-ui,sans-serif;border:1px solid #d0d7de;border-radius:12px;background:#fff;padding:2px 8px;cursor:pointer;color:#1f2328}
        .lg.on{border-color:#1f2328;background:#eef1f4}.lg.off{opacity:.35}
        .low{color:#9a6700}
        .barlabel,.barvalue{font-size:12px}.bar{cursor:pointer}.barrow:hover .bar{opacity:.75}
        .sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:baseline}
        .tree{columns:2;padding-left:18px}.tree ul{padding-left:18px}
        .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:12px}
        .card{border:1px solid #d0d7de;border-radius:6px;padding:10px 12px;break-inside:avoid}
        .kw span{display:inline-block;background:#eef1f4;border-radius:10px;padding:0 8px;margin:2px 4px 2px 0;font-size:12px}
        .reps{padding-left:18px;margin:6px 0 0;font-size:12.5px;color:#333}.reps code{font-size:11px;color:#656d76}
        .figs th{text-align:left;font-weight:500;padding-right:18px;color:#444}.figs td{font-variant-numeric:tabular-nums;padding-right:18px}
        .figs td.why{color:#656d76;font-size:12.5px}
        .block{break-inside:avoid}
        @page{margin:12mm}
        @media print{body{max-width:none;padding:0}#map{border:none}#find{display:none}.card{page-break-inside:avoid}.tree{columns:1}}
        """

    static let script = """
        (function () {
          var map = document.getElementById('map');
          var current = null;
          function show(ids) {
            map.classList.toggle('focus', ids !== null);
            map.querySelectorAll('.pt, .maplabel').forEach(function (p) { p.classList.toggle('on', ids !== null && ids.has(p.getAttribute('data-t'))); });
            document.querySelectorAll('.lg').forEach(function (b) {
              var t = b.getAttribute('data-t');
              b.classList.toggle('on', ids !== null && ids.has(t));
              b.classList.toggle('off', ids !== null && !ids.has(t));
            });
          }
          function pick(t) { current = current === t ? null : t; show(current === null ? null : new Set([t])); }
          document.querySelectorAll('.barrow, .lg, .maplabel').forEach(function (el) {
            el.addEventListener('click', function () { pick(el.getAttribute('data-t')); });
          });
          document.getElementById('find').addEventListener('input', function (e) {
            var q = e.target.value.trim().toLowerCase();
            current = null;
            if (!q) { show(null); return; }
            var ids = new Set();
            document.querySelectorAll('.lg').forEach(function (b) { if (b.getAttribute('data-k').indexOf(q) >= 0) ids.add(b.getAttribute('data-t')); });
            show(ids);
          });
        })();
        """
}
