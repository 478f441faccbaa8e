#if canImport(Glibc)
import Glibc
#endif
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
        guard let (mode, contents) = readOwnFile(path) else {
            logger.error("http_token_file \"\(path)\" cannot be read; control routes disabled")
            return nil
        }
        if let problem = ControlAuth.problem(path: path, mode: mode, contents: contents) {
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

    /// The permission bits and the first 4 kB of the file at `path`, `nil` when it cannot be read.
    private static func readOwnFile(_ path: String) -> (mode: UInt32, contents: String)? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(fd, &buffer, buffer.count)
        guard count >= 0 else { return nil }
        return (UInt32(info.st_mode), String(decoding: buffer[0..<count], as: UTF8.self))
    }

    /// `keel` beside this keeld.
    static func keelPath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return "keel" }
        let executable = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = executable.lastIndex(of: "/") else { return "keel" }
        return String(executable[...slash]) + "keel"
    }
}
