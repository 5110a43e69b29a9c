import Foundation
import Testing

/// `strata eval` and `strata report` (issue 7).
@Suite("eval and HTML report (release CLI)", .serialized, .needsReleaseBinary)
struct EvalReportTests {
    static func corpus(_ count: Int) throws -> (dir: String, input: String) {
        let dir = makeTempDir()
        let input = dir + "/nouns.jsonl"
        try sampleRecords("wordnet-nouns-3000.jsonl", count: count).map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
            .joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        return (dir, input)
    }

    @Test("strata eval: NMI, AMI and ARI equal scikit-learn's on the same assignments; every figure is reported")
    func evalMatchesScikitLearn() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let (dir, input) = try Self.corpus(1500)
        #expect(try runProcess(bin, ["run", input, "--k", "8", "--quiet"]).status == 0)
        let r = try runProcess(bin, ["eval", input, "--truth", "lexname", "--json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let e = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        for key in ["nmi", "ami", "ari", "purity", "centroid_fidelity", "silhouette_sampled", "calinski_harabasz", "davies_bouldin", "label_fidelity", "keyword_npmi", "topic_diversity"] {
            #expect(e[key] is Double, "\(key) missing")
        }
        let perTopic = e["per_topic"] as! [[String: Any]]
        #expect(perTopic.count == 8 && perTopic.allSatisfy { $0["cohesion"] is Double && $0["separation"] is Double && $0["label_fidelity"] is Double })
        // Reference: scikit-learn on the topic column written beside the input and the truth field.
        let py = try runProcess("/usr/bin/env", ["python3", "-c", """
            import json, sys
            from sklearn.metrics import normalized_mutual_info_score as nmi, adjusted_rand_score as ari, adjusted_mutual_info_score as ami
            truth = {r['id']: r['lexname'] for r in map(json.loads, open(sys.argv[1]))}
            out = [json.loads(l) for l in open(sys.argv[2])]
            t = [truth[r['id']] for r in out]; p = [r['topic_id'] for r in out]
            print(json.dumps({'nmi': nmi(t, p), 'ari': ari(t, p), 'ami': ami(t, p)}))
            """, input, dir + "/nouns.topics.jsonl"])
        #expect(py.status == 0, "python: \(py.stderr)")
        let ref = try JSONSerialization.jsonObject(with: Data(py.stdout.utf8)) as! [String: Double]
        print("strata eval NMI \(e["nmi"]!) AMI \(e["ami"]!) ARI \(e["ari"]!) vs scikit-learn \(ref); label fidelity \(e["label_fidelity"]!) (centroids: \(e["centroid_fidelity"]!))")
        #expect(abs((e["nmi"] as! Double) - ref["nmi"]!) < 1e-9)
        #expect(abs((e["ami"] as! Double) - ref["ami"]!) < 1e-9)
        #expect(abs((e["ari"] as! Double) - ref["ari"]!) < 1e-9)
        // Label fidelity is a share, and topic centroids, the reference, place documents at least as well
        // as short label texts do on this corpus.
        let fidelity = e["label_fidelity"] as! Double, centroid = e["centroid_fidelity"] as! Double
        #expect(fidelity > 0 && fidelity <= 1 && centroid >= fidelity)
        // The headline figures land in topics.json.
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/.strata/topics.json"))) as! [String: Any]
        let stored = ((doc["quality"] as! [String: Any])["evaluation"] as! [String: Any])
        #expect(stored["nmi"] as? Double == e["nmi"] as? Double)
    }

    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test("topics, search and report read the topics the state committed: an edited topics.json changes nothing, and a mistyped --state is an error that creates nothing")
    func readersUseCommittedState() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let (dir, input) = try Self.corpus(400)
        #expect(try runProcess(bin, ["run", input, "--k", "5", "--quiet"]).status == 0)
        let state = dir + "/.strata", file = state + "/topics.json"
        let committed = try String(contentsOfFile: file, encoding: .utf8)
        let doc = try JSONSerialization.jsonObject(with: Data(committed.utf8)) as! [String: Any]
        let label = ((doc["topics"] as! [[String: Any]])[0])["label"] as! String
        try "{\"topics\": []}".write(toFile: file, atomically: true, encoding: .utf8)   // a hand edit
        let shown = try runProcess(bin, ["topics", "--state", state, "--json"])
        #expect(shown.status == 0 && shown.stdout.trimmingCharacters(in: .newlines) == committed.trimmingCharacters(in: .newlines))
        let found = try runProcess(bin, ["search", "a kind of animal", "--state", state, "--topic", label, "-k", "3", "--json"])
        #expect(found.status == 0, "search: \(found.stderr)")
        let hits = (try? JSONSerialization.jsonObject(with: Data(found.stdout.utf8))) as? [[String: Any]] ?? []
        #expect(hits.count == 3)
        #expect(try runProcess(bin, ["report", "--state", state, "--out", dir + "/r.html"]).status == 0)
        // A mistyped state directory: usage error (exit 2), and no empty state left behind.
        let typo = dir + "/.stata"
        for args in [["topics", "--state", typo], ["search", "x", "--state", typo], ["report", "--state", typo, "--out", dir + "/t.html"],
                     ["eval", input, "--state", typo]] {
            let r = try runProcess(bin, args)
            #expect(r.status == 2 && r.stderr.contains("no topics in"), "\(args[0]): \(r.status) \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: typo))
    }

    @Test("export and eval take the state's own source when SOURCE is left out; another source with that state is exit 2")
    func sourceFromState() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let (dir, input) = try Self.corpus(400)
        #expect(try runProcess(bin, ["run", input, "--k", "5", "--quiet"]).status == 0)
        let state = dir + "/.strata"
        let exported = try runProcess(bin, ["export", "--state", state, "--out", dir + "/t.jsonl", "--quiet"])
        #expect(exported.status == 0, "export: \(exported.stderr)")
        let rows = (try? String(contentsOfFile: dir + "/t.jsonl", encoding: .utf8))?.split(separator: "\n").count
        #expect(rows == 400)
        let evaluated = try runProcess(bin, ["eval", "--state", state, "--truth", "lexname", "--json"])
        #expect(evaluated.status == 0, "eval: \(evaluated.stderr)")
        let withSource = try runProcess(bin, ["eval", input, "--state", state, "--truth", "lexname", "--json"])
        #expect(withSource.stdout == evaluated.stdout, "the same source, named or taken from the state")
        // Another source against this state would read topics that are not its own.
        let other = dir + "/other.jsonl"
        try FileManager.default.copyItem(atPath: input, toPath: other)
        for args in [["export", other, "--state", state, "--out", dir + "/u.jsonl"], ["eval", other, "--state", state, "--truth", "lexname"],
                     ["run", other, "--state", state, "--k", "5"]] {
            let r = try runProcess(bin, args + ["--quiet"])
            #expect(r.status == 2 && r.stderr.contains("belongs to") && r.stderr.contains("nouns.jsonl"), "\(args[0]): \(r.status) \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/u.jsonl"))
        // No SOURCE and a state with no run: the error says what to pass.
        let empty = try runProcess(bin, ["export", "--state", dir + "/nothing", "--out", dir + "/v.jsonl"])
        #expect(empty.status == 2 && empty.stderr.contains("missing SOURCE"), "\(empty.stderr)")
    }

    @Test("strata report renders in headless Chromium: no console errors, one point per sampled document, one bar per topic")
    func reportInChromium() throws {
        guard let bin = require(strataBinary, "the release strata binary"),
              let chrome = require(Self.chromium, "Chromium (Debian package chromium; scripts/test.sh installs it)") else { return }
        let (dir, input) = try Self.corpus(1500)
        #expect(try runProcess(bin, ["run", input, "--k", "8", "--quiet"]).status == 0)
        let html = dir + "/report.html"
        let r = try runProcess(bin, ["report", "--state", dir + "/.strata", "--out", html])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(!page.contains("http://") && !page.contains("https://") && !page.contains("<script src"), "the page must be self-contained")

        let artifacts = repoRoot.appendingPathComponent(".build/test-artifacts").path
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        let shot = artifacts + "/report.png"
        try? FileManager.default.removeItem(atPath: shot)
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                      "--user-data-dir=\(dir)/chrome-profile", "--enable-logging=stderr", "--v=0", "--window-size=1280,2400"]
        let s = try runProcess(chrome, common + ["--screenshot=\(shot)", "file://\(html)"])
        #expect(s.status == 0, "chromium: \(s.stderr.suffix(2000))")
        let size = (try? FileManager.default.attributesOfItem(atPath: shot)[.size] as? Int) ?? 0
        #expect(size > 20_000, "screenshot missing or empty (\(size) bytes)")
        print("report screenshot: \(shot) (\(size) bytes)")
        let dom = try runProcess(chrome, common + ["--dump-dom", "file://\(html)"])
        #expect(dom.status == 0)
        // Console output of the page (errors and anything else it logs) shows up as CONSOLE lines.
        let console = (s.stderr + dom.stderr).split(separator: "\n").filter { $0.contains(":CONSOLE") || $0.contains("Uncaught") }
        #expect(console.isEmpty, "console: \(console)")
        func count(_ needle: String, _ text: String) -> Int { text.components(separatedBy: needle).count - 1 }
        #expect(count("class=\"pt\"", dom.stdout) == 1500)
        #expect(dom.stdout.contains("data-points=\"1500\""))
        #expect(count("class=\"bar\"", dom.stdout) == 8)
        #expect(count("class=\"card\"", dom.stdout) == 8)
    }
}

@Suite("report map: readable at 1280 px (release CLI, headless Chromium)", .needsReleaseBinary)
struct ReportMapTests {
    /// Appended to a copy of the report: measures every map label's rendered box after load and writes
    /// the pairs that overlap into the DOM, which `--dump-dom` prints.
    static let probe = """
        <script>
        window.addEventListener('load', function () {
          var boxes = [].map.call(document.querySelectorAll('#map .maplabel'), function (e) {
            var r = e.getBoundingClientRect(); return [e.getAttribute('data-t'), r.left, r.top, r.right, r.bottom]; });
          var overlaps = [];
          for (var i = 0; i < boxes.length; i++) for (var j = i + 1; j < boxes.length; j++) {
            var a = boxes[i], b = boxes[j];
            if (a[1] < b[3] && b[1] < a[3] && a[2] < b[4] && b[2] < a[4]) overlaps.push([a[0], b[0]]);
          }
          var out = document.createElement('pre'); out.id = 'probe';
          out.textContent = JSON.stringify({labels: boxes.length, overlaps: overlaps,
            legend: document.querySelectorAll('#legend .lg').length, width: document.documentElement.clientWidth});
          document.body.appendChild(out);
        });
        </script>
        """

    @Test("the full fortunes corpus at k = 43: no two map labels overlap in the rendered page, a legend lists every topic")
    func noOverlaps() throws {
        guard let bin = require(strataBinary, "the release strata binary"),
              let chrome = require(EvalReportTests.chromium, "Chromium (Debian package chromium; scripts/test.sh installs it)") else { return }
        let build = try runProcess("/bin/bash", [repoRoot.path + "/corpora/build.sh"])
        #expect(build.status == 0, "corpora/build.sh: \(build.stderr.suffix(1000))")
        let dir = makeTempDir()
        let input = dir + "/fortunes.jsonl"
        try FileManager.default.copyItem(atPath: repoRoot.path + "/corpora/build/fortunes.jsonl", toPath: input)
        let fit = try runProcess(bin, ["run", input, "--k", "43", "--quiet"])
        #expect(fit.status == 0 || fit.status == 3, "stderr: \(fit.stderr)")
        let html = dir + "/report.html"
        #expect(try runProcess(bin, ["report", "--state", dir + "/.strata", "--out", html]).status == 0)
        try (try String(contentsOfFile: html, encoding: .utf8) + Self.probe).write(toFile: dir + "/probed.html", atomically: true, encoding: .utf8)
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                      "--user-data-dir=\(dir)/chrome-profile", "--window-size=1280,2400"]
        let artifacts = repoRoot.appendingPathComponent(".build/test-artifacts").path
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        _ = try runProcess(chrome, common + ["--screenshot=\(artifacts)/report-fortunes-k43.png", "file://\(html)"])
        let dom = try runProcess(chrome, common + ["--dump-dom", "file://\(dir)/probed.html"])
        #expect(dom.status == 0)
        guard let start = dom.stdout.range(of: "<pre id=\"probe\">"),
              let end = dom.stdout.range(of: "</pre>", range: start.upperBound..<dom.stdout.endIndex) else {
            Issue.record("the probe did not run: \(dom.stderr.suffix(1000))"); return
        }
        let json = String(dom.stdout[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"")
        let probe = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        #expect(probe["width"] as? Int ?? 0 >= 1200, "viewport \(probe["width"] ?? "?")")
        #expect(probe["legend"] as? Int == 43)
        #expect(probe["labels"] as? Int ?? 0 >= 35, "\(probe["labels"] ?? 0) of 43 topics labelled on the map")
        #expect((probe["overlaps"] as? [[String]])?.isEmpty == true, "overlapping labels: \(probe["overlaps"] ?? "")")
    }
}
