#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import KeelCore
import KeelOps
import Logging
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The control routes (POST `/pause`, `/unpause`, `/follow`, `/switchover`, `/promote`, `/rejoin`,
/// `/witness/register`, `/service/start|stop|restart|reload`): each runs the `keel` command of the same name
/// on this node, with this node's configuration file and the options of its JSON body, and streams its
/// output (`ControlStream`). They exist only when `http_token_file` is set and usable, and answer 401
/// without the file's token as `Authorization: Bearer`, 400 for a body they cannot use.
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
                let arguments: [String]
                do {
                    arguments = try route.arguments(try await fields(of: request))
                } catch let error as ControlRequestError {
                    return jsonResponse(400, ["error": error.message])
                }
                let (stripped, password) = CommandLinePassword.strippingKeelArguments(arguments)
                logger.notice("HTTP control request POST /\(route.rawValue): running keel \(Conninfo.masked(stripped.joined(separator: " ")))")
                return ControlStream.response(route: route, command: [keelPath(), "-f", configPath] + stripped,
                                              environment: password.map { ["PGPASSWORD": $0] } ?? [:], logger: logger)
            }
        }
    }

    /// The JSON object of the request's body (`{}` when empty). Throws `ControlRequestError` when it is
    /// not a JSON object of booleans, numbers and strings, or larger than 64 kB.
    static func fields(of request: Request) async throws -> [String: ControlValue] {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: 65536)
        } catch {
            throw ControlRequestError("the request body is larger than 64 kB")
        }
        let text = String(buffer: buffer)
        guard !text.allSatisfy(\.isWhitespace) else { return [:] }
        do {
            return try JSONDecoder().decode([String: ControlValue].self, from: Data(text.utf8))
        } catch {
            throw ControlRequestError("the request body must be a JSON object of true/false, numbers and strings")
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
