import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension NetworkLab {
    private static let counter = LabCounter()

    /// A short tag unique to this process and lab: the pid and a counter in base 36 (interface
    /// names must stay within 15 characters: `kv` + tag + `n` + index).
    static func nextTag() -> String {
        let pid = String(getpid(), radix: 36)
        return pid + String(counter.next() % 36, radix: 36)
    }

    /// An octet N for `10.77.N.0/24` that no interface of this machine uses, starting from one
    /// derived from the pid (parallel test runs pick different ones).
    static func freeSubnetOctet() throws -> Int {
        let used = (try? NetworkTools.run(try NetworkTools.ip(), ["-o", "-4", "addr", "show"]).stdout) ?? ""
        let start = Int(getpid()) % 250
        for step in 0..<250 {
            let octet = (start + step + counter.peek()) % 250 + 1
            if !used.contains("10.77.\(octet).") { return octet }
        }
        throw HarnessError.setupFailed("no free 10.77.N.0/24 subnet for a network lab")
    }

    /// Throws when an interface or namespace with one of these names exists already: the lab
    /// never adopts (nor, later, deletes) something it did not create.
    static func requireUnused(links: [String], namespaces: [String]) throws {
        for link in links where FileManager.default.fileExists(atPath: "/sys/class/net/\(link)") {
            throw HarnessError.setupFailed("interface \(link) exists already; not touching it")
        }
        for namespace in namespaces where FileManager.default.fileExists(atPath: "/run/netns/\(namespace)") {
            throw HarnessError.setupFailed("network namespace \(namespace) exists already; not touching it")
        }
    }
}

/// A process-wide counter for lab tags.
final class LabCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }

    func peek() -> Int {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

/// The nftables rules of one namespace: an `inet keel` table whose input and output chains drop
/// every packet from and to the cut peers.
enum Partition {
    /// The whole table, replaced atomically (`nft -f` applies a file as one transaction).
    static func ruleset(dropping peers: [String]) -> String {
        var lines = [
            "table inet keel {}",
            "delete table inet keel",
            "table inet keel {",
            "  chain input { type filter hook input priority 0; policy accept;",
        ]
        lines += peers.map { "    ip saddr \($0) drop" }
        lines += ["  }", "  chain output { type filter hook output priority 0; policy accept;"]
        lines += peers.map { "    ip daddr \($0) drop" }
        lines += ["  }", "}"]
        return lines.joined(separator: "\n")
    }
}

/// A shell process that outlives a crashed test process and then deletes the lab's namespaces
/// and interfaces by their (unique) names. `stop()` ends it by its process group.
final class NetworkGuardian: @unchecked Sendable {
    private let process: Process
    private let monitor: ChildMonitor

    private static let script = #"""
        parent="$1"; ip="$2"; shift 2
        while kill -0 "$parent" 2>/dev/null; do sleep 1; done
        for name in "$@"; do
            case "$name" in
                ns:*) "$ip" netns del "${name#ns:}" 2>/dev/null ;;
                link:*) "$ip" link del "${name#link:}" 2>/dev/null ;;
            esac
        done
        """#

    static func start(namespaces: [String], links: [String]) -> NetworkGuardian? {
        guard let ip = try? NetworkTools.ip() else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, "keel-network-guardian", String(getpid()), ip]
            + namespaces.map { "ns:" + $0 } + links.map { "link:" + $0 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let monitor = ChildMonitor(process)
        guard (try? ProcessRunner.launch(process, commandLine: "keel-network-guardian")) != nil else { return nil }
        monitor.started(pid: process.processIdentifier)
        return NetworkGuardian(process: process, monitor: monitor)
    }

    private init(process: Process, monitor: ChildMonitor) {
        self.process = process
        self.monitor = monitor
    }

    func stop() {
        let pid = process.processIdentifier
        guard monitor.isRunning else { return }
        if getpgid(pid) == pid { ProcessRunner.signalGroup(pid, SIGKILL) } else { _ = kill(pid, SIGKILL) }
        _ = monitor.wait(timeout: 10)
    }
}
