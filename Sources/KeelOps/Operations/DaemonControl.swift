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

/// `keel daemon start|stop [--wait[=S]] [--no-wait] [--dry-run]`: starts or stops this node's keeld with
/// `repmgrd_service_start_command` / `repmgrd_service_stop_command` when set (as repmgr 5.3
/// `do_daemon_start|stop`), else directly: start runs `keeld -f CONFIG -d` (keeld next to keel, or in
/// `repmgr_bindir`); stop sends SIGTERM to the PID in keeld's pid file. Exit 27 (ERR_REPMGRD_SERVICE)
/// when the daemon does not reach the wanted state within the wait (default 15 s).
public struct DaemonControl {
    public enum Action: Sendable { case start, stop }

    public let context: OpsContext
    public let action: Action
    /// Seconds to wait for the daemon to be running (start) or gone (stop); 0 = do not wait.
    public let wait: Int

    public init(context: OpsContext, action: Action, wait: Int = 15) {
        self.context = context
        self.action = action
        self.wait = wait
    }

    public func run() async throws {
        let config = context.config
        let pidFile = PidFile(path: PidFile.defaultPath(config: config))
        let key = action == .start ? "repmgrd_service_start_command" : "repmgrd_service_stop_command"
        let command = config.string(key)
        let description: String
        if !command.isEmpty {
            description = command
        } else if action == .start {
            description = "\(try keeldPath()) -f \(config.path) -d"
        } else {
            description = pidFile.runningPID().map { "kill -TERM \($0)" } ?? "(keeld is not running)"
        }
        if context.dryRun {
            context.logger.info("would execute: \(description)")
            return
        }
        if !command.isEmpty {
            let result = try await ProcessRunner.shell(command, timeout: 60)
            guard result.succeeded else {
                throw KeelError(.daemonService, "\(key) failed with status \(result.status)", detail: result.stderr)
            }
        } else if action == .start {
            if let pid = pidFile.runningPID() {
                context.logger.notice("keeld is already running (PID \(pid))")
                return
            }
            let result = try await ProcessRunner.run(try keeldPath(), ["-f", config.path, "-d"], timeout: 30)
            guard result.succeeded else {
                throw KeelError(.daemonService, "unable to start keeld", detail: (result.stderr + result.stdout).trimmingWhitespace())
            }
        } else {
            guard let pid = pidFile.runningPID() else {
                context.logger.notice("keeld is not running")
                return
            }
            kill(pid, SIGTERM)
        }
        guard wait > 0 else { return }
        let deadline = Date().addingTimeInterval(Double(wait))
        let stopping = action == .stop ? pidFile.runningPID() : nil
        while Date() < deadline {
            // Stopping: gone means the process itself is gone, not only its pid file.
            let running = pidFile.runningPID() != nil || stopping.map(Self.isAlive) == true
            if running == (action == .start) {
                context.logger.notice(action == .start ? "keeld started" : "keeld stopped")
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw KeelError(.daemonService, action == .start ? "keeld did not start within \(wait) seconds" : "keeld did not stop within \(wait) seconds",
                        hint: config.logFile.isEmpty ? nil : "see \(config.logFile)")
    }

    /// Whether `pid` runs (a zombie, exited but not yet reaped, does not count).
    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return !status.contains("State:\tZ")
    }

    /// keeld: in `repmgr_bindir` when set, else beside this `keel` binary.
    private func keeldPath() throws -> String {
        let bindir = context.config.string("repmgr_bindir")
        let dir = bindir.isEmpty ? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path : bindir
        let path = PathString.join(dir, "keeld")
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw KeelError(.daemonService, "keeld not found at \"\(path)\"", hint: "set repmgr_bindir, or repmgrd_service_start_command")
        }
        return path
    }
}
