import Foundation
import MCP
import Strata
import StrataLinalg

/// `strata mcp`: a Model Context Protocol server over stdio exposing ``RetrievalTools`` (read-only).
public enum StrataMCPServer {
    /// Serves until the client closes standard input.
    public static func serve(stateDirectory: String, embeddingBaseURL: URL) async throws {
        let tools = try RetrievalTools(stateDirectory: stateDirectory, embeddingBaseURL: embeddingBaseURL)
        let server = Server(name: "strata", version: strataVersion, instructions: RetrievalTools.instructions,
                            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { (_: ListTools.Parameters) async throws -> ListTools.Result in
            ListTools.Result(tools: RetrievalTools.catalog.map {
                Tool(name: $0.name, description: $0.description, inputSchema: value($0.schema),
                     annotations: .init(readOnlyHint: true, openWorldHint: false), outputSchema: value($0.output))
            })
        }
        await server.withMethodHandler(CallTool.self) { (params: CallTool.Parameters) async throws -> CallTool.Result in
            do {
                let result = try await tools.call(params.name, arguments: (params.arguments ?? [:]).mapValues(any))
                let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
                let text = Tool.Content.text(text: String(decoding: data, as: UTF8.self), annotations: nil, _meta: nil)
                let structured: Value = result is [Any] ? .object(["items": value(result)]) : value(result)
                return try CallTool.Result(content: [text], structuredContent: structured, isError: false)
            } catch {
                let message = (error as? RetrievalTools.ToolError)?.message ?? "\(error)"
                return CallTool.Result(content: [Tool.Content.text(text: "error: \(message)", annotations: nil, _meta: nil)], isError: true)
            }
        }
        try await server.start(transport: StdioTransport())
        await server.waitUntilCompleted()
    }

    /// Foundation JSON value → MCP value.
    static func value(_ x: Any) -> Value {
        switch x {
        case let v as Value: return v
        case let s as String: return .string(s)
        case let b as Bool: return .bool(b)
        case let i as Int: return .int(i)
        case let d as Double: return .double(d)
        case let f as Float: return .double(Double(f))
        case let a as [Any]: return .array(a.map(value))
        case let o as [String: Any]: return .object(o.mapValues(value))
        case let o as Optional<Any>:
            if case .some(let w) = o { return value(w) }
            return .null
        default: return .null
        }
    }

    /// MCP value → Foundation JSON value.
    static func any(_ v: Value) -> Any {
        switch v {
        case .null: return NSNull()
        case .bool(let b): return b
        case .int(let i): return i
        case .double(let d): return d
        case .string(let s): return s
        case .data(_, let d): return d.base64EncodedString()
        case .array(let a): return a.map(any)
        case .object(let o): return o.mapValues(any)
        }
    }
}
