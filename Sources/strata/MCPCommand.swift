import ArgumentParser
import Foundation
import Strata
import StrataMCP

struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the topics over the Model Context Protocol (stdio): list_topics, get_topic, search, documents_by_topic.",
        discussion: "Read-only. Point an MCP client at `strata mcp --state /path/to/.strata` (see the README for client configs).")

    @Option(help: "State directory of the run to serve.")
    var state = ".strata"

    @Option(help: "Base URL of the embeddings server when the run used openai:MODEL.")
    var embeddingBaseURL = "https://api.openai.com/v1"

    func run() async throws {
        try await reportingErrors {
            let url = try baseURL(embeddingBaseURL, option: "--embedding-base-url")
            try await StrataMCPServer.serve(stateDirectory: state, embeddingBaseURL: url)
        }
    }
}
