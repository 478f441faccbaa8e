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
/// Started with `ChildLauncher` (posix_spawn), not Foundation's `Process`, whose `run()` on Linux
/// can read past the end of a glibc directory buffer and crash the test process.
final class WorkspaceGuardian: @unchecked Sendable {
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
        let pgCtl = context.postgresBinDirectory + "/pg_ctl"
        let user = FileOwnership.isRoot ? (context.serverUser ?? "") : ""
        let arguments = ["-c", script, "keel-test-guardian", String(getpid()), workspace, pgCtl, user, keep ? "1" : "0"]
        let request = LaunchRequest(executable: "/bin/sh", arguments: arguments, currentDirectory: "/")
        guard let child = try? ChildLauncher.launch(request) else { return nil }
        return WorkspaceGuardian(monitor: ChildMonitor(pid: child.pid))
    }

    private init(monitor: ChildMonitor) {
        self.monitor = monitor
    }

    /// Ends the guardian (its shell and its `sleep`) by its process group, which it leads.
    func stop() {
        guard monitor.isRunning else { return }
        ProcessRunner.signalGroup(monitor.pid, SIGKILL)
        _ = monitor.wait(timeout: 10)
    }
}
