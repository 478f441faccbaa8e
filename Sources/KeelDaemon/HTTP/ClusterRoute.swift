import Hummingbird
import KeelCore
import KeelOps
import Logging

/// The read routes that run `keel` on this node with this node's configuration file: `GET /cluster`
/// (`cluster show --json`, or `--csv` with `?format=csv`; no token needed), and, for `remote_transport =
/// http` and only with the bearer token (like the control routes), `GET /cluster/matrix` (`cluster matrix
/// --csv`, this node's view of who reaches whom) and `GET /node/shutdown-state` (`node status
/// --is-shutdown-cleanly`). Every answer carries `Keel-Exit-Status`. `/cluster` answers 200 with the
/// listing (issues included, exit 25), 503 when it cannot be read; the others 200 whenever keel ran.
enum ClusterRoute {
    static let timeout = 30.0

    static func add(to router: Router<BasicRequestContext>, configPath: String, token: String?, logger: Logger) {
        router.get("cluster") { request, _ in
            let csv = request.uri.queryParameters.get("format") == "csv"
            return await run(["cluster", "show", csv ? "--csv" : "--json"], configPath: configPath,
                             contentType: csv ? "text/csv" : "application/json", ok: [0, 25], trimmed: !csv)
        }
        guard let token else { return }
        router.get("cluster/matrix") { request, _ in
            guard authorized(request, token: token, logger: logger) else { return jsonResponse(401, ["error": "missing or wrong bearer token"]) }
            // 25: some node cannot reach another; 12: the view of some node could not be obtained.
            return await run(["cluster", "matrix", "--csv"], configPath: configPath, contentType: "text/csv", ok: [0, 12, 25], timeout: 300)
        }
        router.get("node/shutdown-state") { request, _ in
            guard authorized(request, token: token, logger: logger) else { return jsonResponse(401, ["error": "missing or wrong bearer token"]) }
            return await run(["node", "status", "--is-shutdown-cleanly"], configPath: configPath, contentType: "text/plain", ok: nil)
        }
    }

    private static func authorized(_ request: Request, token: String, logger: Logger) -> Bool {
        if ControlAuth.authorizes(header: request.headers[.authorization], token: token) { return true }
        logger.warning("HTTP request GET \(request.uri.path) refused: missing or wrong bearer token")
        return false
    }

    /// Runs `keel -f CONFIG arguments`: 200 with its standard output when its exit status is in `ok` (any
    /// status when `ok` is nil), else 503 with a JSON error.
    private static func run(_ arguments: [String], configPath: String, contentType: String, ok: Set<Int32>?,
                            timeout: Double = timeout, trimmed: Bool = false) async -> Response {
        do {
            let result = try await ProcessRunner.run(ControlRoutes.keelPath(), ["-f", configPath] + arguments, timeout: timeout)
            var exit = HTTPFields()
            exit[.init("Keel-Exit-Status")!] = String(result.status)
            guard ok?.contains(result.status) ?? true else {
                var answer = jsonResponse(503, ["error": "keel \(arguments.joined(separator: " ")) failed (exit \(result.status))",
                                                "stderr": result.stderr])
                answer.headers.append(contentsOf: exit)
                return answer
            }
            let body = trimmed ? String(result.stdout.reversed().drop { $0 == "\n" }.reversed()) + "\n" : result.stdout
            var headers: HTTPFields = [.contentType: contentType]
            headers.append(contentsOf: exit)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        } catch {
            return jsonResponse(503, ["error": "unable to run keel: \(error)"])
        }
    }
}
