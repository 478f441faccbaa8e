import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small shell process that outlives a crashed test process: it polls the test process's
/// pid once a second and, when that is gone without the workspace having been closed, kills
/// the recorded background process groups, stops every server whose data directory in the
/// workspace has a `postmaster.pid` (`pg_ctl stop -m immediate`, then SIGKILL of that pid),
/// and removes the workspace (unless `KEEL_KEEP_TEST_DIRS=1`). `close()` kills it by pid.
final class WorkspaceGuardian: @unchecked Sendable {
    private let process: Process
    private let monitor: ChildMonitor

    /// The file listing process groups for the guardian to kill, one per line.
    static func groupsFile(workspace: String) -> String { workspace + "/.harness/process-groups" }

    private static let script = #"""
        parent="$1"; workspace="$2"; pg_ctl="$3"; user="$4"; keep="$5"
        while kill -0 "$parent" 2>/dev/null; do sleep 1; done
        [ -d "$workspace" ] || exit 0
        if [ -f "$workspace/.harness/process-groups" ]; then
            while read -r group; do [ -n "$group" ] && kill -9 "-$group" 2>/dev/null; done < "$workspace/.harness/process-groups"
        fi
        find "$workspace" -maxdepth 6 -name postmaster.pid -type f 2>/dev/null | while read -r pidfile; do
            datadir="${pidfile%/postmaster.pid}"
            if [ -n "$user" ]; then
                runuser -u "$user" -- "$pg_ctl" stop -D "$datadir" -m immediate -w -t 30 >/dev/null 2>&1
            else
                "$pg_ctl" stop -D "$datadir" -m immediate -w -t 30 >/dev/null 2>&1
            fi
            pid="$(head -n 1 "$pidfile" 2>/dev/null)"
            if [ -n "$pid" ] && grep -q postgres "/proc/$pid/cmdline" 2>/dev/null; then kill -9 "$pid" 2>/dev/null; fi
        done
        [ "$keep" = "1" ] || rm -rf "$workspace"
        """#

    /// Starts the guardian for `workspace`; nil when it cannot be started (the harness then
    /// relies on `close()` alone).
    static func start(workspace: String, context: CommandContext, keep: Bool) -> WorkspaceGuardian? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        let pgCtl = context.postgresBinDirectory + "/pg_ctl"
        let user = FileOwnership.isRoot ? (context.serverUser ?? "") : ""
        process.arguments = ["-c", script, "keel-test-guardian", String(getpid()), workspace, pgCtl, user, keep ? "1" : "0"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let monitor = ChildMonitor(process)
        do {
            try ProcessRunner.launch(process, commandLine: "keel-test-guardian")
        } catch {
            return nil
        }
        monitor.started(pid: process.processIdentifier)
        return WorkspaceGuardian(process: process, monitor: monitor)
    }

    private init(process: Process, monitor: ChildMonitor) {
        self.process = process
        self.monitor = monitor
    }

    /// Ends the guardian (its shell and its `sleep`) by its process group.
    func stop() {
        let pid = process.processIdentifier
        guard monitor.isRunning else { return }
        if getpgid(pid) == pid { ProcessRunner.signalGroup(pid, SIGKILL) } else { _ = kill(pid, SIGKILL) }
        _ = monitor.wait(timeout: 10)
    }
}
