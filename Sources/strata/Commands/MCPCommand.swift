import ArgumentParser
import Foundation
import Strata
import StrataMCP

struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the topics over the Model Context Protocol (stdio): list_topics, get_topic, search, documents_by_topic.",
        discussion: "Read-only. Point an MCP client at `strata mcp --state /path/to/.strata` (docs/mcp.md has client configs).")

    @OptionGroup var served: ServedStateOptions

    func run() async throws {
        try await reportingErrors {
            try await StrataMCPServer.serve(stateDirectory: served.state, embeddingBaseURL: served.embeddingBaseURL)
        }
    }
}
