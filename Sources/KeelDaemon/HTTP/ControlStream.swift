#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird
import KeelCore
import KeelOps
import Logging

/// A control route's answer: 200 with `application/x-ndjson`, sent chunked as the command runs, one JSON
/// object a line: `{"stream":"stdout"|"stderr","line":"…"}` for each line `keel` writes, then
/// `{"route":"…","exit_status":N}` (with `"error"` when it could not run or was stopped at the route's
/// deadline: exit status 124). The command runs to its end (or deadline) even when the client goes away.
enum ControlStream {
    private struct Line: Encodable {
        var stream: String
        var line: String
    }

    private struct Outcome: Encodable {
        var route: String
        var exitStatus: Int32
        var error: String?
    }

    static func response(route: ControlRoute, command: [String], environment: [String: String], logger: Logger) -> Response {
        let (lines, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .unbounded)
        Task.detached {
            let status: Int32
            var failure: String?
            do {
                let result = try await ProcessRunner.stream(command[0], Array(command.dropFirst()), environment: environment,
                                                        timeout: route.timeout) { stderr, text in
                    continuation.yield(encode(Line(stream: stderr ? "stderr" : "stdout", line: text)))
                }
                status = result.status
                if status == 124 { failure = result.stderr }
            } catch {
                status = 127
                failure = "unable to run keel: \(error)"
            }
            logger.notice("HTTP control request POST /\(route.rawValue) finished with exit status \(status)")
            continuation.yield(encode(Outcome(route: route.rawValue, exitStatus: status, error: failure)))
            continuation.finish()
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson", .cacheControl: "no-store"],
                        body: ResponseBody(asyncSequence: lines))
    }

    /// One compact JSON line.
    private static func encode<T: Encodable>(_ value: T) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return ByteBuffer(string: String(decoding: data, as: UTF8.self) + "\n")
    }
}
