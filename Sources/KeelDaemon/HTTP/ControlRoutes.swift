import Foundation
import Hummingbird
import KeelCore
import KeelOps
import Logging

/// The control routes (POST `/pause`, `/unpause`, `/follow`, `/switchover`, `/service/start|stop|restart`):
/// each runs the `keel` command of the same name on this node, with this node's configuration file, and
/// returns its exit status and output. They exist only when `http_token_file` is set and usable, and
/// answer 401 without the file's token as `Authorization: Bearer`.
enum ControlRoutes {
    /// The token, or `nil` (no routes) with the reason logged.
    static func loadToken(config: KeelConfig, logger: Logger) -> String? {
        let path = config.httpTokenFile
        guard !path.isEmpty else { return nil }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let mode = attributes[.posixPermissions] as? NSNumber,
              let data = FileManager.default.contents(atPath: path) else {
            logger.error("http_token_file \"\(path)\" cannot be read; control routes disabled")
            return nil
        }
        let contents = String(decoding: data, as: UTF8.self)
        if let problem = ControlAuth.problem(path: path, mode: mode.uint32Value, contents: contents) {
            logger.error("\(problem)")
            return nil
        }
        return ControlAuth.token(from: contents)
    }

    static func add(to router: Router<BasicRequestContext>, token: String, configPath: String, logger: Logger) {
        for route in ControlRoute.allCases {
            router.post(RouterPath(route.rawValue)) { request, _ in
                guard ControlAuth.authorizes(header: request.headers[.authorization], token: token) else {
                    logger.warning("HTTP control request POST /\(route.rawValue) refused: missing or wrong bearer token")
                    return jsonResponse(401, ["error": "missing or wrong bearer token"])
                }
                return await run(route, configPath: configPath, logger: logger)
            }
        }
    }

    private struct Outcome: Encodable {
        var route: String
        var exitStatus: Int32
        var stdout: String
        var stderr: String
    }

    private static func run(_ route: ControlRoute, configPath: String, logger: Logger) async -> Response {
        logger.notice("HTTP control request POST /\(route.rawValue): running keel \(route.arguments.joined(separator: " "))")
        do {
            let result = try await ProcessRunner.run(keelPath(), ["-f", configPath] + route.arguments, timeout: route.timeout)
            let outcome = Outcome(route: route.rawValue, exitStatus: result.status, stdout: result.stdout, stderr: result.stderr)
            return jsonResponse(result.succeeded ? 200 : 500, JSON.render(outcome))
        } catch {
            return jsonResponse(500, ["error": "unable to run keel: \(error)"])
        }
    }

    /// `keel` beside this keeld.
    static func keelPath() -> String {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent("keel").path
    }
}
