/// The cluster as this standby sees it once its upstream (the primary) is deemed lost: the input
/// of `Election.decide`. The daemon builds it from the metadata and one SQL round to each node,
/// as repmgrd's `do_election()` does (`R:repmgrd-physical.c`).
public struct ElectionInput: Sendable, Equatable {
    /// When the views were gathered, seconds on the daemon's monotonic clock.
    public var now: Double
    /// This node (always counted as visible).
    public var me: PeerView
    /// The primary that was lost (this node's upstream).
    public var lostPrimary: PeerView
    /// Every other registered node, the witness included. Entries for `me` or `lostPrimary` are
    /// ignored.
    public var peers: [PeerView]
    /// The current voting term (`repmgr.voting_term.term`); the winner promotes with `term + 1`.
    public var term: Int

    /// An election input.
    public init(now: Double, me: PeerView, lostPrimary: PeerView, peers: [PeerView], term: Int) {
        self.now = now
        self.me = me
        self.lostPrimary = lostPrimary
        self.peers = peers
        self.term = term
    }
}

/// The result of one election round, seen from this node (repmgr's `ElectionResult`:
/// `WON`, `LOST`, `CANCELLED` with or without a new primary, `NOT_CANDIDATE`).
public enum ElectionOutcome: Sendable, Equatable {
    /// This node is the promotion candidate; it promotes with voting term `term` (input term + 1).
    case won(term: Int)
    /// Another standby is the candidate: wait for it to become primary, then follow it.
    case lost(winner: Int)
    /// A node already is the new primary (not in recovery, not the lost primary): follow it.
    case followExisting(primaryID: Int)
    /// Location, quorum or visibility consensus forbids a promotion anywhere this round.
    case cancelled(reason: String)
    /// This node takes no part: `failover=manual`, or no standby is eligible at all.
    case notCandidate(reason: String)
}

/// Everything `Election.evaluate` found out, for the log, `--dry-run` style output, the
/// validation hook's context and tests. `outcome` is what `Election.decide` returns.
public struct ElectionReport: Sendable, Equatable {
    /// Why an election was cancelled.
    public enum Cancellation: String, Sendable, Equatable, CaseIterable {
        /// The lost primary is reachable again and not in recovery.
        case primaryReappeared = "primary reappeared"
        /// More than one node is already out of recovery: no safe node to follow.
        case severalPrimaries = "several primaries"
        /// No node in the primary's location is visible: assumed network split.
        case location
        /// `primary_visibility_consensus`: a sibling or the witness still sees the primary.
        case primaryVisible = "primary still visible"
        /// The visible nodes are not more than half of the nodes sharing the upstream.
        case quorum
        /// `synchronous_mode`: no standby can be proven to hold every acknowledged commit.
        case synchronousQuorum = "synchronous quorum"
    }

    /// A standby that cannot be the candidate, and why.
    public struct Exclusion: Sendable, Equatable {
        /// The node's ID.
        public var nodeID: Int
        /// The reason, a sentence naming the node (see `Election.ineligibility`).
        public var reason: String

        /// An exclusion.
        public init(nodeID: Int, reason: String) {
            self.nodeID = nodeID
            self.reason = reason
        }
    }

    /// The decision.
    public var outcome: ElectionOutcome
    /// Set when `outcome` is `.cancelled`.
    public var cancellation: Cancellation?
    /// Visible nodes sharing the upstream: this node + reachable active siblings + reachable
    /// active witness (repmgr's `visible_nodes`, placeholder `%v`).
    public var visible: Int
    /// Nodes sharing the upstream: this node + active siblings + active witness
    /// (repmgr's `shared_upstream_nodes`, placeholder `%u`).
    public var sharedUpstream: Int
    /// Every registered node, the lost primary included (repmgr's `all_nodes`, placeholder `%t`).
    public var total: Int
    /// Eligible candidates, best first (highest LSN, then priority, then lowest node ID).
    public var candidates: [PeerView]
    /// This node and the siblings that are not eligible, with the reason.
    public var exclusions: [Exclusion]
    /// Reachable siblings or witness that still see the lost primary.
    public var seeingPrimary: [PeerView]
    /// The decision in one sentence: the operator's log line.
    public var sentence: String
    /// Nodes out of recovery on an older timeline than the newest seen (former primaries), skipped.
    public var formerPrimaries: [Int] = []
    /// Otherwise eligible standbys left out of the ranking because this node elected them before and
    /// they did not become primary within `primary_notification_timeout` (also in `exclusions`).
    public var failedCandidatesExcluded: [Int] = []
    /// `synchronous_mode`'s verdict on the winner (`nil` when the ranking found none).
    public var synchronous: SyncFailoverRule.Verdict?

    /// A report.
    public init(outcome: ElectionOutcome, cancellation: Cancellation? = nil, visible: Int, sharedUpstream: Int,
                total: Int, candidates: [PeerView] = [], exclusions: [Exclusion] = [], seeingPrimary: [PeerView] = [],
                sentence: String) {
        self.outcome = outcome
        self.cancellation = cancellation
        self.visible = visible
        self.sharedUpstream = sharedUpstream
        self.total = total
        self.candidates = candidates
        self.exclusions = exclusions
        self.seeingPrimary = seeingPrimary
        self.sentence = sentence
    }
}
