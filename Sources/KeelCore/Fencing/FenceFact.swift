/// Why a node fenced itself.
public enum FenceReason: String, Sendable, Equatable, Codable {
    /// Another node runs as primary on a later timeline or with a higher voting term.
    case formerPrimary = "former_primary"
    /// The nodes it could not see could have elected a new primary (`IsolationRule`).
    case isolated
    /// The local server ran as primary but stopped answering (`SilenceRule`): keeld ended it.
    case silent
    /// It could not renew its leader lease in the consensus store in time, or another node holds the key.
    case leaseLost = "dcs_lease_lost"
}

/// The fence a node set on itself, as persisted in its data directory so that it survives a keeld
/// restart: what to verify before unfencing and what to undo.
public struct FenceFact: Sendable, Equatable, Codable {
    /// The node that fenced (a copy of the data directory on another node is not fenced by it).
    public var nodeID: Int
    /// Why.
    public var reason: FenceReason
    /// The node's timeline when it fenced.
    public var timeline: Int
    /// The voting term it knew when it fenced (`nil` when unknown).
    public var term: Int?
    /// `fence_action` applied.
    public var action: FenceAction.RawValue
    /// The sentence logged and recorded with `node_fenced`.
    public var details: String
    /// `synchronous_standby_names` as set by `ALTER SYSTEM` before the fence (`nil` = not set there: reset
    /// it when unfencing).
    public var previousSynchronousStandbyNames: String?
    /// When, as text (wall clock, for people).
    public var fencedAt: String

    /// A fact.
    public init(nodeID: Int, reason: FenceReason, timeline: Int, term: Int?, action: FenceAction, details: String,
                previousSynchronousStandbyNames: String?, fencedAt: String) {
        self.nodeID = nodeID
        self.reason = reason
        self.timeline = timeline
        self.term = term
        self.action = action.rawValue
        self.details = details
        self.previousSynchronousStandbyNames = previousSynchronousStandbyNames
        self.fencedAt = fencedAt
    }

    /// The `synchronous_standby_names` value no standby answers to: while it is set, no commit that waits
    /// for a synchronous standby is acknowledged.
    public static func fencedStandbyName(nodeID: Int) -> String { "keel_fenced_\(nodeID)" }
}
