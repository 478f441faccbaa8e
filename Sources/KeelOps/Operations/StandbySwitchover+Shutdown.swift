#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

extension StandbySwitchover {
    /// Stops the old primary with the remote `keel node service --action=stop --checkpoint` and waits up to
    /// `shutdown_check_timeout` seconds for the remote `node status --is-shutdown-cleanly` to say `DOWN`.
    /// Returns the location of its shutdown checkpoint. Throws `KeelError` 18 when the clean shutdown is not
    /// confirmed (the caller undoes the switchover).
    func stopPrimary(_ plan: SwitchoverPlan, arguments: [String]) async throws -> LSN {
        let log = context.logger
        let timeout = context.config.int("shutdown_check_timeout")
        log.notice("stopping current primary \(plan.primaryLabel)")
        log.info("executing: \(Conninfo.masked(plan.primaryRemote.display(arguments)))")
        var stopOutput = ""
        do {
            let result = try await plan.primaryRemote.run(arguments, timeout: Double(timeout) + 30)
            if !result.succeeded { stopOutput = "exit status \(result.status): " + SiblingsFollow.tail(result.stderr + result.stdout) }
        } catch let error as KeelError {
            stopOutput = error.message
        }
        if !stopOutput.isEmpty { log.warning("the stop command reported a problem: \(stopOutput)") }
        log.notice("waiting up to \(timeout) seconds (parameter \"shutdown_check_timeout\") for the shutdown of \(plan.primaryLabel) to be confirmed")
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(timeout))
        var last = ShutdownState.unknown
        while true {
            let ping = Connection.ping(plan.primaryRecord.conninfo)
            if ping != .ok, ping != .reject,
               let result = try? await plan.primaryRemote.run(["node", "status", "--is-shutdown-cleanly"], timeout: 60),
               let state = ShutdownState(parsing: result.stdout) {
                last = state
                if case .down(let checkpoint) = state {
                    log.notice("current primary has been cleanly shut down at location \(checkpoint)")
                    return checkpoint
                }
                if state == .uncleanShutdown { break }
            }
            if clock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw KeelError(.switchoverFailed, "shutdown of the primary server could not be confirmed",
                        detail: "\(plan.primaryLabel) reports \(last.line)\(stopOutput.isEmpty ? "" : "; stop command: " + stopOutput)",
                        hint: "check the primary's PostgreSQL log; shutdown_check_timeout is \(timeout) seconds")
    }

    /// Waits up to `wal_receive_check_timeout` seconds for this node's last received WAL to include the old
    /// primary's shutdown checkpoint record. Throws `KeelError` 18 when it does not (unless `--always-promote`,
    /// which only warns).
    func confirmReceived(_ checkpoint: LSN, plan: SwitchoverPlan) async throws {
        let log = context.logger
        let timeout = context.config.int("wal_receive_check_timeout")
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(timeout))
        var received: LSN?
        while true {
            if let local = try? Connection(conninfo: context.config.conninfo) {
                received = (try? local.queryRow("SELECT pg_catalog.pg_last_wal_receive_lsn() AS l"))?.lsn("l")
            }
            if SwitchoverPrecheck.hasReceivedShutdownCheckpoint(lastReceived: received, checkpoint: checkpoint) {
                log.info("this node has received the shutdown checkpoint of \(plan.primaryLabel) (last received \(received!), checkpoint at \(checkpoint))")
                return
            }
            if clock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let detail = "last WAL received here is \(received?.description ?? "unknown"); the shutdown checkpoint of \(plan.primaryLabel) is at \(checkpoint)"
        if options.alwaysPromote {
            log.warning("this node has not received the shutdown checkpoint of \(plan.primaryLabel); promoting anyway (--always-promote)",
                        metadata: ["detail": "\(detail)"])
            return
        }
        throw KeelError(.switchoverFailed, "this node has not received the shutdown checkpoint of \(plan.primaryLabel)",
                        detail: detail,
                        hint: "use --always-promote to promote anyway (WAL not received here is lost; the old primary then needs --force-rewind)")
    }

    /// Puts things back after a failure before the promotion: starts the old primary again with the remote
    /// `keel node service --action=start` when it is not running, unpauses keeld, and returns the error to
    /// throw: `failure` (exit 18) when the old primary runs again, else an exit-22 error saying how to start it.
    func undo(_ plan: SwitchoverPlan, paused: [Int], because failure: KeelError) async -> KeelError {
        let log = context.logger
        log.error("\(failure.message)")
        let startArgs = ["node", "service", "--action=start"]
        if Connection.ping(plan.primaryRecord.conninfo) != .ok {
            log.notice("starting \(plan.primaryLabel) again")
            _ = try? await plan.primaryRemote.run(startArgs, timeout: 300)
        }
        let primary = try? Connection(conninfo: plan.primaryRecord.conninfo)
        guard let primary, (try? primary.queryRow("SELECT pg_catalog.pg_is_in_recovery() AS r"))?.bool("r") == false else {
            return KeelError(.switchoverIncomplete, "STANDBY SWITCHOVER failed and \(plan.primaryLabel) could not be started again",
                             detail: [failure.message, failure.detail].compactMap { $0 }.joined(separator: "\n"),
                             hint: "run next:\n  \(Conninfo.masked(plan.primaryRemote.display(startArgs)))\n  keel service unpause")
        }
        DaemonPauser(context: context).unpause(paused, primary: primary)
        log.notice("\(plan.primaryLabel) runs as the primary again; nothing was changed")
        return failure
    }
}
