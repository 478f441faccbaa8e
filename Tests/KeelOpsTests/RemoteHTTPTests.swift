import Foundation
import Testing
import KeelCore
@testable import KeelOps

/// `remote_transport = http` without PostgreSQL: the route and display of `RemoteCommand`, its answer to a
/// fake keeld on loopback (streamed lines, 401, a peer that never answers), and `ProcessRunner.stream`.
@Suite("Remote actions over keeld's HTTP API; streamed child output")
struct RemoteHTTPTests {
    @Test("remote_transport=http: every node, this host's too, is reached at its conninfo host and remote_http_port; the password never shows")
    func route() throws {
        let config = try RemoteCommandTests.config("remote_transport=http\nremote_http_port='1:8001,9000'\nhttp_listen='127.0.0.1:8008'")
        #expect(RemoteCommand(node: RemoteCommandTests.node(1, host: "127.0.0.1"), config: config).route == .http(host: "127.0.0.1", port: 8001))
        #expect(RemoteCommand(node: RemoteCommandTests.node(3, host: "db3"), config: config).route == .http(host: "db3", port: 9000))
        let own = try RemoteCommandTests.config("remote_transport=HTTP\nhttp_listen='0.0.0.0:8008'")
        let remote = RemoteCommand(node: RemoteCommandTests.node(3, host: "db3"), config: own)
        #expect(remote.route == .http(host: "db3", port: 8008))
        #expect(remote.display(["node", "rejoin", "-d", "host=db2 password=secret", "--force-rewind"])
            == "POST http://db3:8008/rejoin {\"conninfo\":\"host=db2 password=...\",\"force_rewind\":true}")
        #expect(remote.display(["cluster", "show", "--csv"]) == "GET http://db3:8008/cluster?format=csv")
    }

    /// Serves one connection on a loopback port with `answer` (nil: accept and never answer), returning
    /// the port and a function giving the request received.
    static func fakeKeeld(_ answer: String?) throws -> (port: Int, request: () -> String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        listen(fd, 1)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let received = Received()
        Thread.detachNewThread {
            let client = accept(fd, nil, nil)
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(client, &buffer, buffer.count, 0)
            received.set(String(decoding: buffer[0..<max(count, 0)], as: UTF8.self))
            if let answer {
                _ = Array(answer.utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
                close(client)
            } else {
                Thread.sleep(forTimeInterval: 5)
                close(client)
            }
            close(fd)
        }
        return (Int(UInt16(bigEndian: address.sin_port)), { received.get() })
    }

    final class Received: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        func set(_ value: String) { lock.withLock { text = value } }
        func get() -> String { lock.withLock { text } }
    }

    static func remote(port: Int) throws -> RemoteCommand {
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("keel-token-\(getpid())-\(port)").path
        try "the-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let config = try RemoteCommandTests.config("remote_transport=http\nremote_http_port='\(port)'\nhttp_token_file='\(tokenFile)'")
        return RemoteCommand(node: RemoteCommandTests.node(1, host: "127.0.0.1"), config: config)
    }

    @Test("a control route's streamed lines give back stdout, stderr and the exit status; the token and JSON options are sent")
    func streamedAnswer() async throws {
        let lines = "{\"line\":\"out one\",\"stream\":\"stdout\"}\n{\"line\":\"NOTICE: done\",\"stream\":\"stderr\"}\n{\"exit_status\":3,\"route\":\"follow\"}\n"
        let chunks = lines.split(separator: "\n").map { l in String(l.utf8.count + 1, radix: 16) + "\r\n" + l + "\n\r\n" }.joined()
        let (port, request) = try Self.fakeKeeld("HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + "0\r\n\r\n")
        let result = try await Self.remote(port: port).run(["standby", "follow", "--upstream-node-id", "2"], timeout: 10)
        #expect(result == CommandResult(status: 3, stdout: "out one\n", stderr: "NOTICE: done\n"))
        let sent = request()
        #expect(sent.hasPrefix("POST /follow HTTP/1.1\r\n") && sent.contains("Authorization: Bearer the-token\r\n"), "\(sent)")
        #expect(sent.hasSuffix("\r\n\r\n{\"upstream_node_id\":2}"), "\(sent)")
    }

    @Test("401 is an error naming the token; a keeld that never answers is given up at the deadline")
    func refusedAndSilent() async throws {
        let (port, _) = try Self.fakeKeeld("HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\n{}")
        await #expect(throws: KeelError.self) { try await Self.remote(port: port).run(["standby", "switchover"], timeout: 10) }
        let (silent, _) = try Self.fakeKeeld(nil)
        let clock = ContinuousClock()
        let started = clock.now
        do {
            _ = try await Self.remote(port: silent).run(["node", "status", "--is-shutdown-cleanly"], timeout: 1)
            Issue.record("a silent keeld gave an answer")
        } catch let error as KeelError {
            #expect(error.message.contains("in time"), "\(error.message)")
        }
        #expect(clock.now - started < .seconds(3))
    }

    @Test("ProcessRunner.stream hands over each line as it is written, before the command ends; a deadline ends it with 124")
    func streamsLines() async throws {
        // One FIFO per handshake: a writer's close is an end-of-file for a reader that reopened the same FIFO.
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("keel-stream-\(getpid())").path
        let fifos = [base + "-1", base + "-2"]
        for fifo in fifos {
            unlink(fifo)
            #expect(mkfifo(fifo, 0o600) == 0)
        }
        defer { fifos.forEach { unlink($0) } }
        let seen = Received()
        // "two" is written only after the test received "one", and "three" only after it received "two"
        // (stdout and stderr are two pipes: without the handshake their order would be the scheduler's).
        let script = "echo one; read x < \(fifos[0]); echo two >&2; read y < \(fifos[1]); printf three; exit 3"
        let result = try await ProcessRunner.stream("/bin/sh", ["-c", script], timeout: 30) { stderr, line in
            seen.set(seen.get() + (stderr ? "E:" : "O:") + line + "|")
            if line == "one" { Self.release(fifos[0]) }
            if line == "two" { Self.release(fifos[1]) }
        }
        #expect(result.status == 3)
        #expect(seen.get() == "O:one|E:two|O:three|")
        let slow = try await ProcessRunner.stream("/bin/sh", ["-c", "echo start; exec sleep 30"], timeout: 0.5) { _, _ in }
        #expect(slow.status == 124)
    }

    /// Writes a line to the FIFO for the shell's `read`, waiting at most 5 s for it to open its end (a
    /// non-blocking open fails with ENXIO until then), so a callback never blocks the stream for good.
    static func release(_ fifo: String) {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            let fd = open(fifo, O_WRONLY | O_NONBLOCK)
            if fd >= 0 {
                _ = "go\n".withCString { write(fd, $0, 3) }
                close(fd)
                return
            }
            usleep(2_000)
        }
    }
}
