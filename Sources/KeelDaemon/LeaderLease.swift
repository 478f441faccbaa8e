import KeelCore
import KeelDCS
import KeelPostgres

/// The primary's hold on the leader key (`dcs` set): one attempt per round through the daemon's
/// `LeaderSession` (lease renewed, key created if absent), then `LeaseRule` decides — hold until a deadline,
/// keep running on `dcs_failsafe`, or fence. Publishes the primary's member status while it holds the key.
final class LeaderLease {
    private let runtime: DaemonRuntime
    private let session: LeaderSession
    private let rule: LeaseRule
    private var memory: LeaseRule.Memory
    private var lastLogged: String?
    /// When the next attempt must be made at the latest (the primary wakes then).
    private(set) var deadline: Double?
    /// The last fencing probe reached every active standby (what `dcs_failsafe` needs).
    var seesEveryStandby = false

    /// `nil` when `dcs` is not set.
    init?(runtime: DaemonRuntime) {
        guard let session = runtime.consensus else { return nil }
        self.runtime = runtime
        self.session = session
        rule = LeaseRule(session.settings)
        memory = LeaseRule.Memory(startedAt: runtime.now, wonAt: session.heldSince)
        if let warning = rule.warning(monitorInterval: Double(runtime.config.monitorIntervalSecs)) {
            runtime.logger.warning("\(warning)")
        }
    }

    /// One attempt and its verdict: the reason to fence, or `nil` to go on as primary.
    func round(info: ServerInfo) -> String? {
        let observation = session.attempt()
        let verdict = rule.decide(observation, now: runtime.now, memory: &memory, seesEveryStandby: seesEveryStandby)
        switch verdict {
        case .fence(let reason):
            deadline = nil
            return reason
        case .failsafe:
            deadline = nil
            note(.warning, "dcs_failsafe: the consensus store is lost but every standby is seen: staying primary (\(observation))")
        case .hold(let at):
            deadline = at
            switch observation {
            case .held:
                note(.info, "holding the leader key \(session.settings.leaderKey)")
                let status = MemberStatus(role: "primary", name: runtime.config.nodeName, lsn: info.lsn.map { "\($0)" },
                                          timeline: info.timeline, fenced: false)
                try? session.publish(status)
            case .heldBy(let id):
                note(.notice, "node \(id) still holds the leader key; waiting for it to be released or to expire")
            case .unavailable(let reason):
                note(.warning, "unable to renew the leader lease: \(reason); fencing in "
                     + "\(String(cFormat: "%.1f", max(0, at - runtime.now))) s unless it is renewed")
            }
        }
        return nil
    }

    /// Logs `message` when it differs from the last one (a state change, not every round).
    private func note(_ level: LogLevel, _ message: String) {
        let key = String(message.prefix(40))
        guard key != lastLogged else { return }
        lastLogged = key
        switch level {
        case .warning, .error: runtime.logger.warning("\(message)")
        case .notice: runtime.logger.notice("\(message)")
        default: runtime.logger.info("\(message)")
        }
    }
}
