import Foundation
import Testing

/// The documentation a newcomer meets: README's first screen, links that resolve, and a folder map in
/// ARCHITECTURE.md that names every source folder.
@Suite("docs: README's first screen, links, the folder map")
struct DocsTests {
    static func read(_ path: String) throws -> String {
        try String(contentsOf: repoRoot.appendingPathComponent(path), encoding: .utf8)
    }

    static var markdownFiles: [String] {
        let docs = (try? FileManager.default.contentsOfDirectory(atPath: repoRoot.appendingPathComponent("docs").path)) ?? []
        return ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    }

    @Test("README: at most 200 lines, the two commands in its first 10, what Strata does in its first 20")
    func readmeFirstScreen() throws {
        let lines = try Self.read("README.md").components(separatedBy: "\n")
        #expect(lines.count <= 200, "README.md has \(lines.count) lines; move detail to docs/")
        let first10 = lines.prefix(10).joined(separator: "\n"), first20 = lines.prefix(20).joined(separator: "\n")
        #expect(first10.contains("scripts/demo.sh") && first10.contains("scripts/test.sh"))
        #expect(first20.contains("Strata turns a pile of documents into"))
        #expect(try Self.read(".ci/run").contains("scripts/test.sh"))
    }

    /// Every relative link `[text](path#anchor)` in README, ARCHITECTURE, BENCHMARKS and docs/ names a
    /// file or folder that exists and, with an anchor, a heading of that file (GitHub's slugs).
    @Test("every relative link in the docs resolves")
    func linksResolve() throws {
        let link = /\[[^\]]*\]\(([^)\s]+)\)/
        var broken: [String] = [], checked = 0
        for file in Self.markdownFiles {
            let text = try Self.read(file)
            let base = URL(fileURLWithPath: file).deletingLastPathComponent().relativePath
            for match in text.matches(of: link) {
                let target = String(match.output.1)
                if target.hasPrefix("http://") || target.hasPrefix("https://") || target.hasPrefix("mailto:") { continue }
                checked += 1
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let path = parts[0].isEmpty ? file : (base == "." ? parts[0] : base + "/" + parts[0])
                let url = repoRoot.appendingPathComponent(path).standardizedFileURL
                guard FileManager.default.fileExists(atPath: url.path) else { broken.append("\(file): \(target) (no such file)"); continue }
                if parts.count == 2, !Self.anchors(try String(contentsOf: url, encoding: .utf8)).contains(parts[1]) {
                    broken.append("\(file): \(target) (no such heading)")
                }
            }
        }
        #expect(checked >= 15, "the docs should link their pages (found \(checked) relative links)")
        #expect(broken.isEmpty, "broken links:\n\(broken.joined(separator: "\n"))")
    }

    /// GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
    static func anchors(_ markdown: String) -> Set<String> {
        Set(markdown.components(separatedBy: "\n").filter { $0.hasPrefix("#") }.map { line in
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
            return String(title.unicodeScalars.compactMap { c -> Character? in
                if c == " " { return "-" }
                if CharacterSet.alphanumerics.contains(c) || c == "-" || c == "_" { return Character(c) }
                return nil
            })
        })
    }

    @Test("every source folder holds at most 15 Swift files and is named in ARCHITECTURE.md")
    func foldersAreSmallAndMapped() throws {
        let architecture = try Self.read("ARCHITECTURE.md")
        let root = repoRoot.appendingPathComponent("Sources")
        let all = FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? []
        var perFolder: [String: Int] = [:]
        for path in all where path.hasSuffix(".swift") {
            perFolder["Sources/" + (path as NSString).deletingLastPathComponent, default: 0] += 1
        }
        #expect(perFolder.count >= 10)
        for (folder, count) in perFolder.sorted(by: { $0.key < $1.key }) {
            #expect(count <= 15, "\(folder) holds \(count) Swift files")
            let components = folder.split(separator: "/")
            // Named as its full path, or as a sub-folder (`Commands/Topics/`) in its module's row.
            let tail = components.dropFirst(2).joined(separator: "/")
            #expect(architecture.contains("`\(folder)`") || (!tail.isEmpty && architecture.contains("`\(tail)/`")),
                    "ARCHITECTURE.md does not name \(folder)")
        }
    }
}
