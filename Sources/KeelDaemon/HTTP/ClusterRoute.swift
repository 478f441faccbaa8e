import Hummingbird
import KeelOps

/// `GET /cluster`: the cluster as this node sees it, the JSON of `keel cluster show --json` (run with
/// this node's configuration file): 200 with the listing (issues included), 503 when it cannot be read.
enum ClusterRoute {
    static let timeout = 30.0

    static func add(to router: Router<BasicRequestContext>, configPath: String) {
        router.get("cluster") { _, _ in
            do {
                let result = try await ProcessRunner.run(ControlRoutes.keelPath(), ["-f", configPath, "cluster", "show", "--json"],
                                                         timeout: timeout)
                // 25: the listing found issues; it is still the cluster as seen from here.
                guard result.status == 0 || result.status == 25 else {
                    return jsonResponse(503, ["error": "cluster show failed (exit \(result.status))", "stderr": result.stderr])
                }
                return jsonResponse(200, String(result.stdout.reversed().drop { $0 == "\n" }.reversed()))
            } catch {
                return jsonResponse(503, ["error": "unable to run keel: \(error)"])
            }
        }
    }
}
