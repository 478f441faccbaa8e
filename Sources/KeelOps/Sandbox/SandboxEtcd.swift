#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelDCS

/// `keel sandbox create --dcs etcd`: a 3-member etcd (Debian's `etcd-server`) beside the nodes, on loopback
/// ports found free at creation (recorded in `sandbox.json`), each member in `DIR/etcd/<name>` with its pid
/// file and log there. Members are stopped by the pid in their pid file, only when that process is an etcd.
public enum SandboxEtcd {
    /// One member as `sandbox.json` records it.
    public struct Member: Codable, Sendable, Equatable {
        public var name: String
        public var clientPort: Int
        public var peerPort: Int
    }

    /// Where Debian installs etcd.
    static let binary = "/usr/bin/etcd"

    /// Three members on free loopback ports. Throws `KeelError` 1 when etcd is not installed.
    static func plan() throws -> [Member] {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw KeelError(.badConfig, "--dcs etcd needs \(binary)", hint: "install Debian's etcd-server (scripts/bootstrap does)")
        }
        var taken: Set<Int> = []
        func port() throws -> Int {
            for _ in 0..<50 {
                if let p = freePort(), taken.insert(p).inserted { return p }
            }
            throw KeelError(.badConfig, "no free loopback port for etcd")
        }
        return try (0..<3).map { Member(name: "m\($0)", clientPort: try port(), peerPort: try port()) }
    }

    /// The value of `dcs` for `members`.
    static func dcs(_ members: [Member]) -> String {
        "etcd:" + members.map { "http://127.0.0.1:\($0.clientPort)" }.joined(separator: ",")
    }

    static func directory(_ sandbox: String) -> String { sandbox + "/etcd" }
    static func pidFile(_ m: Member, _ sandbox: String) -> String { directory(sandbox) + "/\(m.name).pid" }

    /// Starts every member that does not run (detached, in its own session), then waits up to 30 s until the
    /// cluster takes writes.
    static func start(_ members: [Member], sandbox: String) async throws {
        let dir = directory(sandbox)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let cluster = members.map { "\($0.name)=http://127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
        for m in members where runningPID(m, sandbox: sandbox) == nil {
            let args = ["--name", m.name, "--data-dir", "\(dir)/\(m.name)", "--log-level", "warn",
                        "--listen-client-urls", "http://127.0.0.1:\(m.clientPort)", "--advertise-client-urls", "http://127.0.0.1:\(m.clientPort)",
                        "--listen-peer-urls", "http://127.0.0.1:\(m.peerPort)", "--initial-advertise-peer-urls", "http://127.0.0.1:\(m.peerPort)",
                        "--initial-cluster", cluster, "--initial-cluster-token", "keel-sandbox"]
            let script = "setsid \"$0\" \"$@\" </dev/null >>'\(dir)/\(m.name).log' 2>&1 & echo $! > '\(pidFile(m, sandbox))'"
            let result = try await ProcessRunner.run("/bin/sh", ["-c", script, binary] + args, timeout: 10)
            guard result.succeeded else { throw KeelError(.localCommand, "unable to start etcd member \(m.name)", detail: result.stderr) }
        }
        let store = EtcdStore(endpoints: members.map { DCSEndpoint(host: "127.0.0.1", port: $0.clientPort) }, callTimeout: 1)
        let deadline = Date().addingTimeInterval(30)
        while (try? store.put("/keel-sandbox/ready", value: "1", lease: 0)) == nil {
            guard Date() < deadline else {
                throw KeelError(.localCommand, "etcd did not take writes within 30 s", hint: "see \(dir)/m0.log")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// SIGTERM to every running member, SIGKILL after 10 s.
    static func stop(_ members: [Member], sandbox: String) async {
        for m in members {
            guard let pid = runningPID(m, sandbox: sandbox) else { continue }
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while runningPID(m, sandbox: sandbox) != nil, Date() < deadline { try? await Task.sleep(for: .milliseconds(100)) }
            if runningPID(m, sandbox: sandbox) != nil { kill(pid, SIGKILL) }
        }
    }

    /// The member's pid when its pid file names a live etcd (pids are reused: another program does not count).
    static func runningPID(_ m: Member, sandbox: String) -> Int32? {
        guard let text = try? String(contentsOfFile: pidFile(m, sandbox), encoding: .utf8),
              let pid = Int32(text.trimmingWhitespace()), pid > 0, kill(pid, 0) == 0 else { return nil }
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        if status.contains("State:\tZ") { return nil }
        let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        return PathString.lastComponent(String(decoding: cmdline.prefix { $0 != 0 }, as: UTF8.self)) == "etcd" ? pid : nil
    }

    private static func freePort() -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        return ok ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }
}
