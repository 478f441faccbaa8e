#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// `remote_transport = http`: the `keel` command becomes a request to the node's keeld (`KeeldCall`) at
/// the host of its conninfo and the port of `remote_http_port` (else of this node's `http_listen`), with
/// this node's `http_token_file` as bearer token. A control route's streamed lines give back the
/// command's output and exit status; a read route's body is its output and `Keel-Exit-Status` its status.
extension RemoteCommand {
    /// One line of a control route's answer (`application/x-ndjson`).
    struct StreamLine: Decodable {
        var stream: String?
        var line: String?
        var exitStatus: Int32?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case stream, line, error
            case exitStatus = "exit_status"
        }
    }

    /// The request, as shown in logs and hints (a conninfo's password masked).
    static func displayHTTP(host: String, port: Int?, _ arguments: [String]) -> String {
        let url = "http://\(host.contains(":") ? "[\(host)]" : host):\(port.map(String.init) ?? "?")"
        guard let call = try? KeeldCall.from(arguments: arguments) else {
            return "keel \(arguments.joined(separator: " ")) (no HTTP route) at \(url)"
        }
        guard case .control(_, let fields) = call, !fields.isEmpty else { return "\(call.method) \(url)\(call.path)" }
        let masked = fields.mapValues { value -> ControlValue in
            if case .text(let text) = value { return .text(Conninfo.masked(text)) }
            return value
        }
        return "\(call.method) \(url)\(call.path) \(body(masked))"
    }

    /// The JSON body of `fields` (compact, keys sorted).
    static func body(_ fields: [String: ControlValue]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(fields)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Sends the request and waits up to `timeout` seconds for the whole answer. Throws `KeelError` 12 when
    /// keeld cannot be reached, refuses the request (401, 404, 400) or its answer ends without an exit
    /// status; 1 when the command has no HTTP route, no port is configured or the token cannot be read.
    func runOverHTTP(host: String, port: Int?, _ arguments: [String], timeout: Double) async throws -> CommandResult {
        let label = node.nodeLabel
        let call: KeeldCall
        do {
            call = try KeeldCall.from(arguments: arguments)
        } catch {
            throw KeelError(.badConfig, "unable to run this on \(label) with remote_transport = http: \(error.message)")
        }
        guard let port else {
            throw KeelError(.badConfig, "no port for the keeld of \(label) (remote_transport = http)",
                            hint: "set remote_http_port (PORT, or NODE_ID:PORT pairs), or http_listen on this node")
        }
        let token = try readToken()
        var body: String?
        if case .control(_, let fields) = call { body = Self.body(fields) }
        let client = KeeldClient(host: host, port: port)
        let deadline = ContinuousClock().now.advanced(by: .milliseconds(Int64(timeout * 1000)))
        let sent = body
        let outcome: Result<KeeldClient.Reply, ControlRequestError> = await Self.offThread {
            Result { () throws(ControlRequestError) in try client.request(call.method, call.path, body: sent, token: token, deadline: deadline) }
        }
        let reply: KeeldClient.Reply
        switch outcome {
        case .success(let answer): reply = answer
        case .failure(let error):
            throw KeelError(.badSSH, "unable to reach the keeld of \(label): \(error.message)",
                            hint: "check that keeld runs there with http_listen, and remote_http_port on this node")
        }
        return try result(of: reply, call: call)
    }

    /// The command's result from keeld's answer.
    private func result(of reply: KeeldClient.Reply, call: KeeldCall) throws -> CommandResult {
        let label = node.nodeLabel
        let message = { (reply.body.split(whereSeparator: \.isNewline).first).map(String.init) ?? "" }
        switch reply.status {
        case 401:
            throw KeelError(.badSSH, "the keeld of \(label) refused \(call.method) \(call.path): missing or wrong bearer token (401)",
                            hint: "every node's http_token_file must hold the same token")
        case 404:
            throw KeelError(.badSSH, "the keeld of \(label) has no route \(call.method) \(call.path) (404)",
                            hint: "control routes exist only when that node's http_token_file is set and readable by its owner only")
        case 200 where reply.headers["content-type"]?.hasPrefix("application/x-ndjson") == true:
            return try streamed(reply.body, call: call)
        case 200, 503 where reply.headers["keel-exit-status"] != nil:
            let status = Int32(reply.headers["keel-exit-status"] ?? "") ?? 1
            return CommandResult(status: status, stdout: reply.status == 200 ? reply.body : "", stderr: reply.status == 200 ? "" : reply.body)
        default:
            throw KeelError(.badSSH, "the keeld of \(label) answered \(call.method) \(call.path) with status \(reply.status)", detail: message())
        }
    }

    /// The output and exit status in a control route's lines.
    private func streamed(_ body: String, call: KeeldCall) throws -> CommandResult {
        var result = CommandResult(status: -1, stdout: "", stderr: "")
        let decoder = JSONDecoder()
        for line in body.split(whereSeparator: \.isNewline) {
            guard let item = try? decoder.decode(StreamLine.self, from: Data(line.utf8)) else { continue }
            if let text = item.line { item.stream == "stderr" ? result.stderr.append(text + "\n") : result.stdout.append(text + "\n") }
            if let error = item.error { result.stderr.append(error + "\n") }
            if let status = item.exitStatus { result.status = status }
        }
        guard result.status >= 0 else {
            throw KeelError(.badSSH, "the answer of the keeld of \(node.nodeLabel) to \(call.method) \(call.path) ended without an exit status",
                            detail: SiblingsFollow.tail(result.stderr + result.stdout))
        }
        return result
    }

    /// The token of this node's `http_token_file`. Throws `KeelError` 1 when unset, unreadable or empty.
    private func readToken() throws -> String {
        guard !tokenFile.isEmpty else {
            throw KeelError(.badConfig, "remote_transport = http needs http_token_file (the token of the nodes' keeld control routes)")
        }
        guard let contents = try? String(contentsOfFile: tokenFile, encoding: .utf8), !ControlAuth.token(from: contents).isEmpty else {
            throw KeelError(.badConfig, "unable to read a token from http_token_file \"\(tokenFile)\"")
        }
        return ControlAuth.token(from: contents)
    }

    /// Runs blocking `work` on a thread of its own (it is bounded by its own deadline).
    static func offThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            if !startThread(name: "keel-http", stackSize: 1 << 20, { continuation.resume(returning: work()) }) {
                continuation.resume(returning: work())
            }
        }
    }
}
