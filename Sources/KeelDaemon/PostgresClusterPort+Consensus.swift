import KeelCore
import KeelDCS
import KeelPostgres

/// The standby's side of the consensus store: the leader key won before a promotion, the member status
/// published, and the key handed back by a former primary that now runs as a standby.
extension PostgresClusterPort {
    func claimLeadership() async -> String? {
        guard let session = runtime.consensus else { return nil }
        let rule = ClaimRule(session.settings)
        let interval = min(1, Double(runtime.config.monitorIntervalSecs))
        let first = runtime.now
        while true {
            let observation = session.attempt()
            switch rule.decide(observation, firstAttempt: first, now: runtime.now, interval: interval) {
            case .promote:
                runtime.logger.notice("won the leader key \(session.settings.leaderKey) in the consensus store")
                return nil
            case .refuse(let reason):
                runtime.logger.warning("not promoting: \(reason)")
                return reason
            case .retry(let at):
                runtime.logger.info("leader key not won yet (\(observation)); trying again")
                do { try await runtime.sleep(at - runtime.now) } catch { return "keeld is stopping" }
            }
        }
    }

    /// Publishes this standby's status, and releases the leader key when it still names this node (a
    /// switchover's former primary: the new primary takes it at once rather than after the lease).
    func publishStandbyStatus() {
        guard let session = runtime.consensus, let info = try? ServerInfo.read(local), info.isInRecovery else { return }
        if (try? session.release()) == true {
            runtime.logger.notice("released the leader key \(session.settings.leaderKey): this node is a standby now")
        }
        let status = MemberStatus(role: "standby", name: runtime.config.nodeName, lsn: info.lsn.map { "\($0)" },
                                  timeline: info.timeline, fenced: false)
        do {
            try session.publish(status)
        } catch {
            runtime.logger.debug("unable to publish the member status: \(error)")
        }
    }
}

extension PostgresClusterPort {
    /// True when `upstream` (the primary) answers out of recovery; a fenced primary (demoted: in recovery)
    /// counts as lost, so that the standbys elect a new one.
    func upstreamTakesWrites(_ upstream: NodeRecord) -> Bool {
        guard let conn = runtime.tryConnect(upstream.conninfo),
              let row = try? conn.queryRow("SELECT pg_catalog.pg_is_in_recovery() AS recovery") else { return false }
        if row.bool("recovery") == true {
            runtime.logger.info("upstream \(upstream.nodeLabel) runs in recovery (fenced): counted as unreachable")
            return false
        }
        return true
    }
}
