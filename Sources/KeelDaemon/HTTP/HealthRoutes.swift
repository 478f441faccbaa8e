import Hummingbird
import KeelCore
import KeelOps

/// The health routes (`/primary`, `/replica`, `/read-only`, `/health`, `/liveness`, `/readiness`): each
/// asks the local server at request time (bounded to about a second) and answers 200 or 503 with a
/// small JSON body saying why.
enum HealthRoutes {
    static func add(to router: Router<BasicRequestContext>, runtime: DaemonRuntime, pool: HealthConnections) {
        for route in HealthRoute.allCases {
            router.get(RouterPath(route.rawValue)) { request, _ in
                await answer(route, request: request, runtime: runtime, pool: pool)
            }
        }
    }

    static func answer(_ route: HealthRoute, request: Request, runtime: DaemonRuntime, pool: HealthConnections) async -> Response {
        var maxLag: Int64?
        if route == .replica, let text = request.uri.queryParameters.get("lag") {
            guard let bytes = ByteSize.parse(text) else {
                return jsonResponse(400, ["error": "invalid lag \"\(text)\": use bytes, or a size such as 16MB or 1GB"])
            }
            maxLag = bytes
        }
        let config = runtime.config
        let state: LocalServerState = route == .liveness ? LocalServerState() : await LocalStateProbe.read(conninfo: config.conninfo, pool: pool)
        let fenced = FenceStore(dataDirectory: config.dataDirectory).load(nodeID: config.nodeID) != nil
        let verdict = HealthRules.verdict(route, state: state, fenced: fenced, loopAlive: runtime.loopAlive, maxLagBytes: maxLag)
        return jsonResponse(verdict.status, JSON.render(verdict))
    }
}

/// A response with a JSON body.
func jsonResponse(_ status: Int, _ body: String) -> Response {
    Response(status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
             body: ResponseBody(byteBuffer: ByteBuffer(string: body + "\n")))
}

/// A response with a JSON object of strings as its body.
func jsonResponse(_ status: Int, _ fields: [String: String]) -> Response {
    jsonResponse(status, JSON.render(fields))
}
