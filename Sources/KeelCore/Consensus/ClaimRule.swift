/// When a standby that won its election may promote, with a consensus store: only once it won the leader
/// key (created it, absent, under its own lease). The lost primary's lease may still run when the election
/// ends, so the standby tries again until `ttl + 2c` after its first attempt (the lease of a primary lost
/// before the election is over by then); a key still held then, or a store that never answered, refuses
/// the promotion — at most one node is promoted per lease.
public struct ClaimRule: Sendable, Equatable {
    /// `dcs_ttl`.
    public var ttl: Double
    /// `c`: one store call's deadline.
    public var callTimeout: Double

    /// A rule.
    public init(ttl: Double, callTimeout: Double) {
        self.ttl = ttl
        self.callTimeout = callTimeout
    }

    /// The rule of `settings`.
    public init(_ settings: DCSSettings) { self.init(ttl: settings.ttl, callTimeout: settings.callTimeout) }

    /// What the standby does after an attempt.
    public enum Verdict: Sendable, Equatable {
        /// It holds the key: promote.
        case promote
        /// Try again at `at`.
        case retry(at: Double)
        /// Do not promote, for this reason.
        case refuse(reason: String)
    }

    /// Decides after `observation` at `now`, the first attempt having been made at `firstAttempt`;
    /// `interval`: the pause between attempts.
    public func decide(_ observation: LeaderObservation, firstAttempt: Double, now: Double, interval: Double) -> Verdict {
        let giveUp = firstAttempt + ttl + 2 * callTimeout
        switch observation {
        case .held:
            return .promote
        case .heldBy(let id):
            guard now < giveUp else {
                return .refuse(reason: "node \(id) holds the leader key in the consensus store (its lease is being renewed)")
            }
        case .unavailable(let reason):
            guard now < giveUp else {
                return .refuse(reason: "the consensus store could not be reached to win the leader key: \(reason)")
            }
        }
        return .retry(at: min(now + interval, giveUp))
    }
}
