#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// A started child and everything it started: signalled as a whole when it overruns its timeout (its
/// process group when it has one of its own, and every descendant found in `/proc`, which also reaches
/// children that left the group).
final class ChildProcessTree: @unchecked Sendable {
    private let lock = Lock()
    private var pid: pid_t?
    private let ownGroup: Bool

    init(ownGroup: Bool) { self.ownGroup = ownGroup }

    /// Records the child's PID once it runs.
    func started(_ pid: pid_t) { lock.withLock { self.pid = pid } }

    /// Sends `signal` to the child, its descendants and (with its own group) its process group.
    func signal(_ signal: Int32) {
        guard let pid = lock.withLock({ self.pid }) else { return }
        let descendants = Self.descendants(of: pid)
        if ownGroup { kill(-pid, signal) }
        kill(pid, signal)
        for child in descendants { kill(child, signal) }
    }

    /// Every process below `root`, from the parent links in `/proc/PID/stat` (empty where there is no `/proc`).
    static func descendants(of root: pid_t) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var children: [pid_t: [pid_t]] = [:]
        for entry in entries {
            guard let pid = pid_t(entry), let parent = ProcessStat.read(pid)?.parentPID else { continue }
            children[parent, default: []].append(pid)
        }
        var found: [pid_t] = []
        var queue = [root]
        while let next = queue.popLast() {
            for child in children[next] ?? [] where !found.contains(child) {
                found.append(child)
                queue.append(child)
            }
        }
        return found
    }
}
