/// What `standby switchover` found on the promotion candidate before it changes anything, gathered by the
/// operation (connections, remote commands) and judged by `SwitchoverPrecheck.evaluate`.
public struct SwitchoverFacts: Sendable, Equatable {
    /// The candidate's WAL receiver streams from the current primary (a cascaded standby cannot switch over).
    public var streamingFromPrimary: Bool
    /// Seconds of replication lag on the candidate (repmgr's `get_replication_lag_seconds`: 0 when replay has
    /// caught up with what was received), `nil` when it could not be read.
    public var lagSeconds: Int?
    /// `replication_lag_warning`, seconds.
    public var lagWarning: Int
    /// `replication_lag_critical`, seconds.
    public var lagCritical: Int
    /// WAL replay is paused on the candidate (the promotion would fail).
    public var replayPaused: Bool
    /// Free walsenders on the candidate (`max_wal_senders` − in use).
    public var freeWalSenders: Int
    /// Walsenders the nodes that will attach need (the old primary, plus the siblings with `--siblings-follow`).
    public var neededWalSenders: Int
    /// `use_replication_slots`.
    public var useSlots: Bool
    /// Free replication slots on the candidate (`max_replication_slots` − existing).
    public var freeSlots: Int
    /// Slots the attaching nodes need.
    public var neededSlots: Int
    /// Siblings (`--siblings-follow`) on which `keel` could not be run, as "node \"name\" (ID: n)" labels.
    public var unreachableSiblings: [String]
    /// `-F/--force`: lag, walsender/slot shortage and unreachable siblings become warnings.
    public var force: Bool

    /// Makes the facts; defaults describe a healthy candidate with nothing to attach.
    public init(streamingFromPrimary: Bool = true, lagSeconds: Int? = 0, lagWarning: Int = 300, lagCritical: Int = 600,
                replayPaused: Bool = false, freeWalSenders: Int = 10, neededWalSenders: Int = 1, useSlots: Bool = false,
                freeSlots: Int = 10, neededSlots: Int = 0, unreachableSiblings: [String] = [], force: Bool = false) {
        self.streamingFromPrimary = streamingFromPrimary
        self.lagSeconds = lagSeconds
        self.lagWarning = lagWarning
        self.lagCritical = lagCritical
        self.replayPaused = replayPaused
        self.freeWalSenders = freeWalSenders
        self.neededWalSenders = neededWalSenders
        self.useSlots = useSlots
        self.freeSlots = freeSlots
        self.neededSlots = neededSlots
        self.unreachableSiblings = unreachableSiblings
        self.force = force
    }
}

/// One finding of the switchover pre-checks: a refusal stops the switchover before anything changes
/// (exit 18), a warning is printed and the switchover goes on.
public struct SwitchoverFinding: Sendable, Equatable {
    /// Whether the finding stops the switchover.
    public enum Severity: Sendable, Equatable { case warning, refusal }
    /// Refusal or warning.
    public var severity: Severity
    /// One line, repmgr's wording where it has one.
    public var message: String
    /// What to do about it, or `nil`.
    public var hint: String?

    /// Makes a finding.
    public init(_ severity: Severity, _ message: String, hint: String? = nil) {
        self.severity = severity
        self.message = message
        self.hint = hint
    }
}

/// The pre-check decisions of repmgr 5.3's `do_standby_switchover`, pure: the candidate must stream from
/// the primary and must not have WAL replay paused (never overridable); replication lag at or above
/// `replication_lag_critical` (or unknown), too few free walsenders or replication slots for the nodes that
/// will attach to the new primary, and siblings that cannot be reached refuse the switchover unless
/// `--force`, which turns them into warnings; lag above `replication_lag_warning` is a warning.
public enum SwitchoverPrecheck {
    /// The findings, refusals first.
    public static func evaluate(_ facts: SwitchoverFacts) -> [SwitchoverFinding] {
        var findings: [SwitchoverFinding] = []
        let forced: SwitchoverFinding.Severity = facts.force ? .warning : .refusal
        let forceHint = facts.force ? nil : "use -F/--force to switch over anyway"
        if !facts.streamingFromPrimary {
            findings.append(.init(.refusal, "this standby is not streaming from the current primary",
                                  hint: "run the switchover on a standby attached directly to the primary"))
        }
        if facts.replayPaused {
            findings.append(.init(.refusal, "WAL replay is paused on this standby",
                                  hint: "execute \"SELECT pg_catalog.pg_wal_replay_resume()\" first"))
        }
        switch facts.lagSeconds {
        case nil:
            findings.append(.init(forced, "unable to determine the replication lag of this standby", hint: forceHint))
        case let lag? where lag >= facts.lagCritical:
            findings.append(.init(forced, "replication lag on this standby is \(lag) seconds, critical threshold (replication_lag_critical) is \(facts.lagCritical) seconds",
                                  hint: forceHint))
        case let lag? where lag > facts.lagWarning:
            findings.append(.init(.warning, "replication lag on this standby is \(lag) seconds, warning threshold (replication_lag_warning) is \(facts.lagWarning) seconds"))
        default:
            break
        }
        if facts.freeWalSenders < facts.neededWalSenders {
            findings.append(.init(forced, "insufficient free walsenders on this standby: \(facts.freeWalSenders) free, \(facts.neededWalSenders) needed by the nodes that will attach to it",
                                  hint: facts.force ? nil : "increase \"max_wal_senders\" on this node, or use -F/--force"))
        }
        if facts.useSlots, facts.freeSlots < facts.neededSlots {
            findings.append(.init(forced, "insufficient free replication slots on this standby: \(facts.freeSlots) free, \(facts.neededSlots) needed",
                                  hint: facts.force ? nil : "increase \"max_replication_slots\" on this node, or use -F/--force"))
        }
        if !facts.unreachableSiblings.isEmpty {
            findings.append(.init(forced, "unable to run keel on sibling node(s) \(facts.unreachableSiblings.joined(separator: ", ")); they cannot follow the new primary",
                                  hint: facts.force ? nil : "use -F/--force to switch over without them, or leave out --siblings-follow"))
        }
        return findings.filter { $0.severity == .refusal } + findings.filter { $0.severity == .warning }
    }

    /// Whether the candidate has the old primary's shutdown checkpoint record: its last received WAL
    /// position lies past the start of that record (`pg_controldata`'s "Latest checkpoint location" on
    /// the old primary). repmgr accepts equality; Keel requires the record itself, so that no WAL of the
    /// old primary is missing on the new one.
    public static func hasReceivedShutdownCheckpoint(lastReceived: LSN?, checkpoint: LSN) -> Bool {
        guard let lastReceived else { return false }
        return lastReceived > checkpoint
    }
}
