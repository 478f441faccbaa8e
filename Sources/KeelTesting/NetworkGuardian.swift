import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
