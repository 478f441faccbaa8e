import KeelCore
import KeelNet

/// Another node's keeld over HTTP (`remote_transport = http`): one request per connection through
/// `HTTPExchange`, the whole exchange bounded by a deadline. Blocking; callers run it off the cooperative
/// pool (`RemoteCommand` does).
struct KeeldClient {
    /// An answer: status code, headers (names lowercased) and body.
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    let host: String
    let port: Int

    /// Sends `method path` with `body` (JSON) and `token`, and reads the whole answer before `deadline`.
    /// Throws a message when the node cannot be reached or does not answer in time.
    func request(_ method: String, _ path: String, body: String?, token: String?, deadline: ContinuousClock.Instant) throws(ControlRequestError) -> Reply {
        let peer = "keeld at " + (host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        do throws(HTTPExchange.Failure) {
            let answer = try HTTPExchange.send(method, path, host: host, port: port, peer: peer,
                                               headers: token.map { ["Authorization": "Bearer \($0)"] } ?? [:],
                                               body: body.map { Array($0.utf8) }, deadline: deadline,
                                               limit: ProcessRunner.outputLimit * 2)
            return Reply(status: answer.status, headers: answer.headers, body: String(decoding: answer.body, as: UTF8.self))
        } catch {
            throw ControlRequestError(error.message)
        }
    }
}
