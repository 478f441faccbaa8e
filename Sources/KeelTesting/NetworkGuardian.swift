import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shell process that outlives a crashed test process and then deletes the lab's namespaces
/// and interfaces by their (unique) names. `stop()` ends it by its process group. Started with
/// `ChildLauncher`, like every child of the harness.
final class NetworkGuardian: @unchecked Sendable {
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
        let arguments = ["-c", script, "keel-network-guardian", String(getpid()), ip]
            + namespaces.map { "ns:" + $0 } + links.map { "link:" + $0 }
        let request = LaunchRequest(executable: "/bin/sh", arguments: arguments, currentDirectory: "/")
        guard let child = try? ChildLauncher.launch(request) else { return nil }
        return NetworkGuardian(monitor: ChildMonitor(pid: child.pid))
    }

    private init(monitor: ChildMonitor) {
        self.monitor = monitor
    }

    func stop() {
        let pid = monitor.pid
        guard monitor.isRunning else { return }
        if getpgid(pid) == pid { ProcessRunner.signalGroup(pid, SIGKILL) } else { _ = kill(pid, SIGKILL) }
        _ = monitor.wait(timeout: 10)
    }
}
