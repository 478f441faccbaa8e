/// When a primary must fence because of the consensus store. The store's lease expires `dcs_ttl` after the
/// store received the last renewal, which was after that renewal was sent (`LeaderObservation.held`); a
/// standby can win the key, hence be promoted, only once it expired. So the primary must be fenced by
/// `lastRenewal + ttl`.
///
/// The decision is made after each attempt; attempts run once per round and the primary wakes at the
/// deadline. Between the deadline and the fence's first step (commits no longer acknowledged) come at most
/// the rest of a round (the fencing probe, `p`), one attempt (two store calls, `2c`) and the step itself
/// (`F`): `margin = p + 2c + F`. The primary therefore fences once `now ≥ lastRenewal + ttl − margin`.
public struct LeaseRule: Sendable, Equatable {
    /// `dcs_ttl`.
    public var ttl: Double
    /// `p`: the longest the rest of a round may take (the fencing probe round).
    public var probeTimeout: Double
    /// `c`: one store call's deadline.
    public var callTimeout: Double
    /// `F`: the first fencing step's deadline.
    public var fenceStepTimeout: Double
    /// `dcs_failsafe`.
    public var failsafe: Bool

    /// A rule.
    public init(ttl: Double, probeTimeout: Double = FenceTiming.defaultProbeTimeout + 0.25, callTimeout: Double,
                fenceStepTimeout: Double = FenceTiming.defaultFenceStepTimeout, failsafe: Bool = false) {
        self.ttl = ttl
        self.probeTimeout = probeTimeout
        self.callTimeout = callTimeout
        self.fenceStepTimeout = fenceStepTimeout
        self.failsafe = failsafe
    }

    /// The rule of `settings`.
    public init(_ settings: DCSSettings) {
        self.init(ttl: settings.ttl, callTimeout: settings.callTimeout, failsafe: settings.failsafe)
    }

    /// `p + 2c + F`.
    public var margin: Double { probeTimeout + 2 * callTimeout + fenceStepTimeout }

    /// The warning to log at start when the TTL leaves less than one monitor interval between the last renewal and
    /// the fence; `nil` otherwise.
    public func warning(monitorInterval: Double) -> String? {
        guard ttl - margin < monitorInterval else { return nil }
        return "dcs_ttl (\(formatSeconds(ttl)) s) leaves \(formatSeconds(max(0, ttl - margin))) s between a renewal of the "
            + "leader lease and the fence, less than monitor_interval_secs (\(formatSeconds(monitorInterval)) s): one slow "
            + "renewal fences the primary; raise dcs_ttl above \(formatSeconds(margin + monitorInterval)) s"
    }

    /// What the primary does.
    public enum Verdict: Sendable, Equatable {
        /// Keep running as primary; decide again by `deadline` at the latest.
        case hold(deadline: Double)
        /// Keep running as primary on `dcs_failsafe`: the store is lost but every standby is seen.
        case failsafe
        /// Fence now, for this reason.
        case fence(reason: String)
    }

    /// What the primary's lease tracking remembers between attempts.
    public struct Memory: Sendable, Equatable {
        /// When the last successful renewal was sent (or the primary monitor started, before any).
        public var lastRenewal: Double
        /// True once this primary held the key (since it started, or since it won it as a standby).
        public var everHeld: Bool
        /// When the primary monitor started (a primary that never held the key waits for it until
        /// `startedAt + ttl + margin`: a switchover's former primary releases it, or its lease expires).
        public var startedAt: Double

        /// Memory at start; `wonAt`: when this node won the key as a standby, if it did.
        public init(startedAt: Double, wonAt: Double? = nil) {
            self.startedAt = startedAt
            lastRenewal = wonAt ?? startedAt
            everHeld = wonAt != nil
        }
    }

    /// Decides after `observation` at `now`; `seesEveryStandby`: the last fencing probe reached every
    /// active standby (what `dcs_failsafe` needs).
    public func decide(_ observation: LeaderObservation, now: Double, memory: inout Memory, seesEveryStandby: Bool) -> Verdict {
        switch observation {
        case .held(let sentAt):
            memory.lastRenewal = max(memory.lastRenewal, sentAt)
            memory.everHeld = true
            return .hold(deadline: memory.lastRenewal + ttl - margin)
        case .heldBy(let id):
            if memory.everHeld {
                return .fence(reason: "node \(id) holds the leader key in the consensus store: this primary lost it")
            }
            let patience = memory.startedAt + ttl + margin
            if now >= patience {
                return .fence(reason: "node \(id) still holds the leader key in the consensus store "
                              + "\(formatSeconds(ttl + margin)) s after this node became primary")
            }
            return .hold(deadline: patience)
        case .unavailable(let reason):
            let deadline = memory.lastRenewal + ttl - margin
            guard now >= deadline else { return .hold(deadline: deadline) }
            if failsafe && seesEveryStandby { return .failsafe }
            return .fence(reason: "the leader lease could not be renewed for \(formatSeconds(now - memory.lastRenewal)) s "
                          + "(dcs_ttl \(formatSeconds(ttl)) s, margin \(formatSeconds(margin)) s): \(reason)")
        }
    }
}
