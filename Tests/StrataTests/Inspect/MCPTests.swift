import Foundation
import Testing

/// `strata mcp` (issue 6): an MCP client (the official Python SDK) drives the server over stdio.
@Suite("MCP server (release CLI + Python MCP client)", .serialized, .needsReleaseBinary)
struct MCPTests {
    @Test("lists the tools, calls each against topics.json and the search reference; bad arguments are tool errors")
    func pythonClient() throws {
        guard let bin = require(strataBinary, "the release strata binary") else { return }
        let probe = try runProcess("/usr/bin/env", ["python3", "-c", "import mcp"])
        guard probe.status == 0 || !underCI else {
            Issue.record("the Python package mcp is missing under CI=true — scripts/setup.sh (STRATA_SETUP_PYTHON=1) installs it")
            return
        }
        if probe.status != 0 { print("NOT RUN: the Python package mcp is missing; run the suite through scripts/test.sh"); return }
        let dir = makeTempDir()
        let input = dir + "/nouns.jsonl"
        try writeSample("wordnet-nouns-3000.jsonl", count: 800, to: input)
        #expect(try runProcess(bin, ["run", input, "--k", "6", "--quiet"]).status == 0)
        let r = try runProcess("/usr/bin/env", ["python3", repoRoot.appendingPathComponent("scripts/tests/mcp_client.py").path, bin, dir + "/.strata"])
        print(r.stdout)
        #expect(r.status == 0, "client: \(r.stdout)\n\(r.stderr.suffix(3000))")
        #expect(r.stdout.contains("0 failed"))
        #expect(!r.stdout.contains("FAIL"))
    }
}
