/// repmgr 5.3's promotion-candidate election (`R:repmgrd-physical.c`, `do_election()`), as a pure
/// function of what the electing standby sees. No I/O, no clock: the daemon gathers the
/// `ElectionInput`, this decides.
///
/// The checks run in a fixed order and the first that applies decides:
/// 1. `failover=manual`: not a candidate, and will not follow either.
/// 2. The lost primary is reachable again and not in recovery: cancelled (nothing to do).
/// 3. A reachable active node other than the lost primary is already out of recovery, or a
///    sibling already follows such a node: follow it (two or more such nodes: cancelled). A node out
///    of recovery on a timeline older than the newest seen is a former primary and is skipped.
/// 4. Location: no visible node (this one, reachable siblings, the reachable witness) in the lost
///    primary's `location`: cancelled, a network split is assumed.
/// 5. `primary_visibility_consensus`: a reachable sibling or witness still sees the primary:
///    cancelled.
/// 6. Quorum: visible nodes ≤ half of the nodes sharing the upstream: cancelled ("unable to reach
///    a qualified majority of nodes").
/// 7. Rank the eligible standbys (this one and the reachable active siblings, priority > 0):
///    highest last received LSN, then highest priority, then lowest node ID. None: not a
///    candidate. This node first: won with term + 1. Another: lost to it.
/// 8. `synchronous_mode = quorum:N`: the winner must be proven to hold every acknowledged commit
///    (`SyncFailoverRule`); otherwise cancelled, and the election reruns after `election_rerun_interval`.
///
/// Where Keel differs from repmgr: the `failedCandidates` (nodes this node already elected that did
/// not become primary within `primary_notification_timeout`) are left out of the ranking, so a rerun
/// elects the next standby instead of the same winner again and again (repmgr reruns with the same
/// inputs and elects the same node forever when its promotion keeps failing). A failed candidate that
/// still streams from the lost primary is never left out: the primary is alive for it (this node is cut
/// off alone), and electing past it would promote a second primary.
public enum Election {
    /// The outcome of `evaluate`.
    public static func decide(_ input: ElectionInput, settings: FailoverSettings,
                              failedCandidates: Set<Int> = []) -> ElectionOutcome {
        evaluate(input, settings: settings, failedCandidates: failedCandidates).outcome
    }

    /// Runs the election and reports how it was decided (counts, ranking, exclusions, the
    /// sentence to log). `failedCandidates`: nodes this node elected before in this failover that
    /// did not become primary within `primary_notification_timeout`; an otherwise eligible one is
    /// excluded from the ranking, and the sentence says so.
    public static func evaluate(_ input: ElectionInput, settings: FailoverSettings,
                                failedCandidates: Set<Int> = []) -> ElectionReport {
        let me = input.me
        let lost = input.lostPrimary
        let others = input.peers.filter { $0.nodeID != me.nodeID && $0.nodeID != lost.nodeID }
        let siblings = others.filter { $0.active && $0.type == .standby && $0.upstreamNodeID == lost.nodeID }
        let witnesses = others.filter { $0.active && $0.type == .witness }
        let sharing = siblings + witnesses
        let visibleNodes = [me] + sharing.filter(\.reachable)
        var report = ElectionReport(
            outcome: .notCandidate(reason: ""), visible: visibleNodes.count, sharedUpstream: 1 + sharing.count,
            total: 2 + Set(others.map(\.nodeID)).count,
            seeingPrimary: sharing.filter { $0.reachable && $0.seesPrimary }, sentence: "")

        func cancel(_ why: ElectionReport.Cancellation, _ sentence: String) -> ElectionReport {
            report.outcome = .cancelled(reason: sentence)
            report.cancellation = why
            report.sentence = sentence
            return report
        }

        // 1. failover=manual
        if settings.mode == .manual {
            let sentence = "this node is not configured for automatic failover so will not be considered as promotion "
                + "candidate, and will not follow the new primary (\"failover\" is set to \"manual\")"
            report.outcome = .notCandidate(reason: sentence)
            report.sentence = sentence
            return report
        }

        // 2. the primary is back, unless another reachable node already runs as primary on a later timeline:
        //    then the lost one is a former primary (fenced where it runs) and that node is followed in 3.
        //    repmgr resumes monitoring it, and a standby that does so streams the old timeline's new WAL
        //    and can no longer follow the new primary without a rewind.
        let promotedTimeline = others.filter { $0.active && $0.reachable && $0.type != .witness && $0.isInRecovery == false }
            .compactMap(\.timeline).max()
        if lost.reachable && lost.isInRecovery == false && !isFormerPrimary(lost, newestTimeline: promotedTimeline) {
            return cancel(.primaryReappeared, "original primary \(lost.label) reappeared - no promotion needed")
        }

        // 3. a new primary already exists
        var newPrimaries: [Int: String] = [:]
        let newestTimeline = ([me] + others).filter { $0.reachable && $0.type != .witness }.compactMap(\.timeline).max()
        report.formerPrimaries = others.filter {
            $0.active && $0.reachable && $0.type != .witness && $0.isInRecovery == false
                && isFormerPrimary($0, newestTimeline: newestTimeline)
        }.map(\.nodeID)
        for node in others where node.active && node.reachable {
            if node.type != .witness && node.isInRecovery == false && !report.formerPrimaries.contains(node.nodeID) {
                newPrimaries[node.nodeID] = "\(node.label) is not in recovery"
            }
            if let upstream = node.upstreamIsNewPrimary, upstream != lost.nodeID, upstream != me.nodeID,
               !report.formerPrimaries.contains(upstream), newPrimaries[upstream] == nil {
                newPrimaries[upstream] = "\(node.label) already follows node \(upstream), which is not in recovery"
            }
        }
        if newPrimaries.count == 1, let found = newPrimaries.first {
            let (id, evidence) = (found.key, found.value)
            let target = evidence.hasPrefix(label(of: id, in: others)) ? "it" : label(of: id, in: others)
            let sentence = "\(evidence): following \(target) as the new primary instead of electing one"
            report.outcome = .followExisting(primaryID: id)
            report.sentence = sentence
            return report
        }
        if newPrimaries.count > 1 {
            let evidence = newPrimaries.keys.sorted().compactMap { newPrimaries[$0] }.joined(separator: "; ")
            return cancel(.severalPrimaries, "\(evidence) - more than one node is out of recovery, "
                + "so no node can safely be followed or promoted")
        }

        // 4. location
        if !visibleNodes.contains(where: { $0.location == lost.location }) {
            return cancel(.location, "no nodes from the primary location \"\(lost.location)\" visible - assuming network split")
        }

        // 5. primary visibility consensus
        if settings.primaryVisibilityConsensus && !report.seeingPrimary.isEmpty {
            return cancel(.primaryVisible, "\(list(report.seeingPrimary)) can still see primary \(lost.label); "
                + "cancelling failover (primary_visibility_consensus)")
        }

        // 6. quorum
        if Double(report.visible) <= Double(report.sharedUpstream) / 2 {
            return cancel(.quorum, "unable to reach a qualified majority of nodes: \(report.visible) of "
                + "\(report.sharedUpstream) nodes sharing upstream \(lost.label) are visible, more than half are needed")
        }

        // 7. rank
        for node in [me] + siblings {
            if let reason = ineligibility(of: node, lostPrimary: lost, isSelf: node.nodeID == me.nodeID) {
                report.exclusions.append(.init(nodeID: node.nodeID, reason: reason))
            } else if failedCandidates.contains(node.nodeID), !node.seesPrimary {
                // A failed candidate still streaming from the lost primary is not excluded: the primary is
                // alive for it (a partial partition), and electing past it could promote beside that primary.
                report.exclusions.append(.init(nodeID: node.nodeID, reason: failedCandidateReason(node)))
                report.failedCandidatesExcluded.append(node.nodeID)
            } else {
                report.candidates.append(node)
            }
        }
        report.candidates.sort(by: ranks(_:before:))
        if settings.logicalSlotFailover {
            let slots = LogicalSlotFailover.rank(report.candidates, alwaysPromote: settings.alwaysPromote)
            report.candidates = slots.candidates
            report.exclusions += slots.refused
        }
        let counts = "\(report.visible) of \(report.sharedUpstream) nodes sharing upstream \(lost.label) visible"
        let stillSeeing = report.seeingPrimary.isEmpty ? ""
            : "; \(list(report.seeingPrimary)) can still see the primary (primary_visibility_consensus is off)"
        let failed = report.exclusions.filter { report.failedCandidatesExcluded.contains($0.nodeID) }
            .map { "; " + $0.reason }.joined()
        guard let winner = report.candidates.first else {
            let reasons = report.exclusions.map(\.reason).joined(separator: "; ")
            let sentence = "no eligible promotion candidate: \(reasons) (\(counts))"
            report.outcome = .notCandidate(reason: sentence)
            report.sentence = sentence
            return report
        }
        // 8. synchronous mode: the winner must be proven to hold every acknowledged commit
        let sync = synchronousCheck(input, settings: settings, winner: winner)
        report.synchronous = sync.verdict
        if let blocked = sync.blocked { return cancel(.synchronousQuorum, blocked) }
        let proof = sync.proof.map { "; " + $0 } ?? ""
        let ranking = report.candidates.count == 1
            ? "the only eligible candidate: " + describe(winner)
            : "ranked first of \(report.candidates.count) by last received LSN, \(settings.logicalSlotFailover ? "logical slots, " : "")priority, node ID: "
                + report.candidates.map(describe).joined(separator: ", ")
        if winner.nodeID == me.nodeID {
            report.outcome = .won(term: input.term + 1)
            report.sentence = "this node \"\(me.name)\" (ID: \(me.nodeID)) is the promotion candidate for voting term \(input.term + 1) "
                + "(\(ranking)\(failed); \(counts)\(stillSeeing)\(proof))"
        } else {
            report.outcome = .lost(winner: winner.nodeID)
            report.sentence = "promotion candidate is \(winner.label) (\(ranking)\(failed); \(counts)\(stillSeeing)\(proof))"
        }
        return report
    }

    /// `synchronous_mode`'s check of the ranked `winner` (`SyncFailoverRule`): the verdict, the sentence
    /// that blocks the promotion (nothing proven, or the winner behind the proven LSN), or the proof.
    static func synchronousCheck(_ input: ElectionInput, settings: FailoverSettings, winner: PeerView)
        -> (verdict: SyncFailoverRule.Verdict, blocked: String?, proof: String?) {
        let nodes = [input.me] + input.peers.filter { $0.nodeID != input.me.nodeID && $0.nodeID != input.lostPrimary.nodeID }
        let verdict = SyncFailoverRule.evaluate(mode: settings.synchronousMode, nodes: nodes)
        switch verdict {
        case .unconstrained:
            return (verdict, nil, nil)
        case .blocked(let reason):
            return (verdict, "no promotion: " + reason, nil)
        case .proven(let required, let record, let reporters):
            let set = SyncFailoverRule.describe(record.set, nodes)
            let who = reporters.map { id in nodes.first { $0.nodeID == id }?.label ?? "node \(id)" }.joined(separator: ", ")
            guard (winner.lastReceivedLSN ?? .zero) >= required else {
                return (verdict, "no promotion: \(who) of the synchronous set \(set) reported, the most advanced at LSN "
                        + "\(required), but the best promotion candidate \(winner.label) is at LSN "
                        + "\(winner.lastReceivedLSN.map(String.init(describing:)) ?? "unknown") and may lack acknowledged commits", nil)
            }
            return (verdict, nil, "holds every acknowledged commit: \(reporters.count) of the synchronous set \(set) reported "
                    + "(record generation \(record.generation)), the most advanced at LSN \(required)")
        }
    }

    /// A node out of recovery on a timeline older than the newest one seen is a former primary: never
    /// followed, never counted as a new primary.
    public static func isFormerPrimary(_ node: PeerView, newestTimeline: Int?) -> Bool {
        guard let newest = newestTimeline, let timeline = node.timeline else { return false }
        return timeline < newest
    }

    /// Why `node` cannot be the promotion candidate, or `nil` when it can. Candidates are active,
    /// in-recovery standbys of the lost primary with priority > 0 and a known last received LSN;
    /// siblings must also be reachable (this node, `isSelf`, always is, and shares the upstream by
    /// definition). repmgr's skips in `do_election()`: unreachable, witness, `priority <= 0`,
    /// no replication info.
    public static func ineligibility(of node: PeerView, lostPrimary: PeerView, isSelf: Bool) -> String? {
        if !node.active { return "\(node.label) is inactive" }
        if node.type != .standby { return "\(node.label) is a \(node.type.rawValue), not a standby" }
        if !isSelf {
            if node.upstreamNodeID != lostPrimary.nodeID {
                let upstream = node.upstreamNodeID.map { "node \($0)" } ?? "no upstream"
                return "\(node.label) replicates from \(upstream), not from \(lostPrimary.label)"
            }
            if !node.reachable { return "\(node.label) is unreachable" }
        }
        switch node.isInRecovery {
        case false?: return "\(node.label) is not in recovery"
        case nil: return "\(node.label) did not report whether it is in recovery"
        case true?: break
        }
        if node.priority <= 0 { return "\(node.label) has priority \(node.priority) and never promotes" }
        if node.lastReceivedLSN == nil { return "\(node.label) reported no last received LSN" }
        return nil
    }

    /// Why a node that was elected before and did not become primary within
    /// `primary_notification_timeout` is left out of this round's ranking.
    public static func failedCandidateReason(_ node: PeerView) -> String {
        "excluding \(node.label): elected but not primary after primary_notification_timeout"
    }

    /// repmgr's candidate order: `a` ranks before `b` when its last received LSN is higher, or
    /// equal with a higher priority, or both equal with a lower node ID. A missing LSN counts
    /// as 0/0.
    public static func ranks(_ a: PeerView, before b: PeerView) -> Bool {
        let lsnA = a.lastReceivedLSN ?? .zero
        let lsnB = b.lastReceivedLSN ?? .zero
        if lsnA != lsnB { return lsnA > lsnB }
        if a.priority != b.priority { return a.priority > b.priority }
        return a.nodeID < b.nodeID
    }

    private static func describe(_ node: PeerView) -> String {
        "\"\(node.name)\" (ID: \(node.nodeID)) LSN \(node.lastReceivedLSN.map(String.init(describing:)) ?? "unknown") "
            + "priority \(node.priority)"
    }

    private static func list(_ nodes: [PeerView]) -> String {
        nodes.map(\.label).joined(separator: ", ")
    }

    private static func label(of id: Int, in nodes: [PeerView]) -> String {
        nodes.first { $0.nodeID == id }?.label ?? "node \(id)"
    }
}
