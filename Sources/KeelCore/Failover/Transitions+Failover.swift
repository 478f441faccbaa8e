/// The rows of a failover: siblings, election, validation, rerun, promotion, waiting, following
/// (see `Transitions.table`).
extension Transitions {
    // MARK: - failover: siblings, election, validation, rerun

    static let failover: [Transition] = [
        row(.siblingsDisconnected, .disconnectingSiblings, .siblingsDisconnected, .electing,
            "WAL receivers stopped on all siblings: elect a promotion candidate") { m, _ in
            m.state = .electing
            return [.log(level: .notice, message: "WAL receiver disconnected on all sibling nodes; "
                         + "electing a promotion candidate"), .gatherElection]
        },
        row(.siblingWaitOver, .disconnectingSiblings, .timer, when: "sibling_nodes_disconnect_timeout passed", .electing,
            "siblings did not all confirm: elect anyway", if: { m, t in t.now >= deadline(m) }) { m, _ in
            m.state = .electing
            return [.log(level: .warning, message: "sibling_nodes_disconnect_timeout "
                         + "(\(formatSeconds(m.settings.siblingNodesDisconnectTimeout)) s) passed and a WAL receiver may "
                         + "still be connected on a sibling node; electing a promotion candidate anyway"),
                    .gatherElection]
        },
        row(.electionWonValidate, .electing, .election, when: "won, failover_validation_command set", .validating,
            "won: run failover_validation_command",
            if: { m, t in t.wonTerm != nil && m.settings.hasValidationCommand }) { m, t in
            let term = t.wonTerm ?? 0
            m.state = .validating(term: term)
            let report = t.report!
            let me = t.input!.me
            let context = ValidationContext(
                nodeID: me.nodeID, nodeName: me.name, visible: report.visible, sharedUpstream: report.sharedUpstream,
                total: report.total, term: term, lsn: me.lastReceivedLSN, candidates: report.candidates)
            return m.restartWALReceiver()
                + [.log(level: .notice, message: report.sentence + "; running failover_validation_command"),
                   .runValidation(context)]
        },
        row(.electionWon, .electing, .election, when: "won", .promoting, "won: promote this node",
            if: { _, t in t.wonTerm != nil }) { m, t in
            let term = t.wonTerm ?? 0
            m.state = .promoting(term: term)
            return m.restartWALReceiver()
                + [.log(level: .notice, message: t.report!.sentence + "; promoting this node"), .promote(term: term)]
        },
        row(.electionLost, .electing, .election, when: "lost", .waitingForPrimary,
            "lost: wait primary_notification_timeout for the winner to become primary",
            if: { _, t in t.winner != nil }) { m, t in
            let winner = t.winner ?? 0
            let timeout = m.settings.primaryNotificationTimeout
            m.state = .waitingForPrimary(candidate: winner, deadline: t.now + timeout)
            return m.restartWALReceiver()
                + [.log(level: .info, message: t.report!.sentence + "; waiting up to \(formatSeconds(timeout)) s for it "
                        + "to become primary (primary_notification_timeout)"),
                   .waitForPrimary(candidate: winner, deadline: t.now + timeout)]
        },
        row(.electionFollowExisting, .electing, .election, when: "a new primary exists", .following,
            "a node is already primary: follow it", if: { _, t in t.existingPrimary != nil }) { m, t in
            let primary = t.existingPrimary ?? 0
            m.state = .following(primaryID: primary)
            return m.restartWALReceiver()
                + [.log(level: .notice, message: t.report!.sentence), .follow(primaryID: primary)]
        },
        row(.electionPrimaryReappeared, .electing, .election, when: "cancelled: the lost primary is back", .monitoring,
            "the primary reappeared: record repmgrd_failover_aborted, resume monitoring",
            if: { _, t in t.report?.cancellation == .primaryReappeared }) { m, t in
            let details = "original primary \(m.upstream) reappeared - no action taken"
            return m.restartWALReceiver()
                + [.log(level: .notice, message: t.report!.sentence + "; resuming monitoring"),
                   .notify(event: .failoverAborted, success: true, details: details)]
                + m.enterMonitoring(t.now)
        },
        row(.electionBlocked, .electing, .election, when: "cancelled: synchronous_mode proves no standby complete",
            .waitingToRerun, "blocked: record failover_blocked, rerun the election after election_rerun_interval",
            if: { _, t in t.report?.cancellation == .synchronousQuorum }) { m, t in
            let interval = m.settings.electionRerunInterval
            m.state = .waitingToRerun(until: t.now + interval)
            let sentence = t.report!.sentence
            return m.restartWALReceiver()
                + [.log(level: .warning, message: sentence + "; rerunning the election in \(formatSeconds(interval)) s "
                        + "(election_rerun_interval) unless upstream \(m.upstream) reconnects"),
                   .notify(event: .failoverBlocked, success: false, details: sentence),
                   .scheduleTimer(at: t.now + interval),
                   .scheduleCheck(at: t.now + m.settings.monitorInterval)]
        },
        row(.electionCancelled, .electing, .election, when: "cancelled (location, consensus, quorum, two primaries)",
            .degraded, "cancelled: record repmgrd_failover_aborted, degraded monitoring",
            if: { _, t in t.report?.cancellation != nil }) { m, t in
            let sentence = "election cancelled: " + t.report!.sentence
            return m.restartWALReceiver()
                + [.log(level: .notice, message: sentence + "; degraded monitoring until upstream \(m.upstream) reconnects"),
                   .notify(event: .failoverAborted, success: true, details: sentence)]
                + m.enterDegraded(t.now)
        },
        row(.electionNoCandidate, .electing, .election, when: "no eligible candidate", .degraded,
            "nobody can be promoted: record repmgrd_failover_aborted, degraded monitoring") { m, t in
            let sentence = t.report!.sentence
            return m.restartWALReceiver()
                + [.log(level: .warning, message: sentence + "; degraded monitoring until upstream \(m.upstream) "
                        + "reconnects or a new primary appears"),
                   .notify(event: .failoverAborted, success: true, details: sentence)]
                + m.enterDegraded(t.now)
        },
        // gatherElection failed (the effector turns the failure into an event): check the upstream after
        // monitor_interval_secs; if it is back, leave the election, else gather again.
        row(.electionUnavailable, .electing, .electionUnavailable, .electing,
            "the cluster could not be read for the election: check the upstream after monitor_interval_secs") { m, t in
            let interval = m.settings.monitorInterval
            return [.log(level: .error, message: "unable to gather the cluster's state for the election: \(t.detail); "
                         + "trying again in \(formatSeconds(interval)) s"),
                    .scheduleCheck(at: t.now + interval)]
        },
        row(.electingUpstreamBack, .electing, .upstreamCheck, when: "reachable", .monitoring,
            "upstream back before an election could be held: record repmgrd_upstream_reconnect, resume monitoring",
            if: { _, t in t.flag }) { m, t in
            let sentence = "reconnected to upstream \(m.upstream) before an election could be held"
            return m.restartWALReceiver()
                + [.log(level: .notice, message: sentence + "; failover abandoned, resuming monitoring"),
                   .notify(event: .upstreamReconnect, success: true, details: sentence)] + m.enterMonitoring(t.now)
        },
        row(.electionRetry, .electing, .upstreamCheck, when: "unreachable", .electing,
            "upstream still lost: gather the election again") { m, _ in
            m.upstreamReachable = false
            return [.log(level: .notice, message: "upstream \(m.upstream) is still unreachable; gathering the cluster's "
                         + "state for the election again"),
                    .gatherElection]
        },
        row(.validationAllowed, .validating, .validation, when: "allowed", .promoting,
            "validation allowed: promote this node", if: { _, t in t.flag }) { m, _ in
            guard case .validating(let term) = m.state else { return [] }
            m.state = .promoting(term: term)
            return [.log(level: .notice, message: "failover_validation_command allowed the promotion of \(m.me) "
                         + "for voting term \(term); promoting"),
                    .promote(term: term)]
        },
        row(.validationVetoed, .validating, .validation, when: "vetoed", .waitingToRerun,
            "validation vetoed: rerun the election after election_rerun_interval") { m, t in
            let interval = m.settings.electionRerunInterval
            m.state = .waitingToRerun(until: t.now + interval)
            return [.log(level: .notice, message: "failover_validation_command vetoed the promotion of \(m.me): "
                         + "\(t.detail); rerunning the election in \(formatSeconds(interval)) s (election_rerun_interval)"),
                    .scheduleTimer(at: t.now + interval),
                    .scheduleCheck(at: t.now + m.settings.monitorInterval)]
        },
        row(.rerunUpstreamBack, .waitingToRerun, .upstreamCheck, when: "reachable", .monitoring,
            "upstream back before the rerun: record repmgrd_upstream_reconnect, resume monitoring",
            if: { _, t in t.flag }) { m, t in
            let sentence = "reconnected to upstream \(m.upstream) before the election rerun"
            return [.log(level: .notice, message: sentence + "; failover abandoned, resuming monitoring"),
                    .notify(event: .upstreamReconnect, success: true, details: sentence)] + m.enterMonitoring(t.now)
        },
        row(.rerunUpstreamStillLost, .waitingToRerun, .upstreamCheck, when: "unreachable", .waitingToRerun,
            "upstream still lost: keep waiting for the rerun") { m, t in
            m.upstreamReachable = false
            return [.log(level: .debug, message: "upstream \(m.upstream) is still unreachable; the election reruns at "
                         + "\(formatSeconds(deadline(m))) s"),
                    .scheduleCheck(at: t.now + m.settings.monitorInterval)]
        },
        row(.rerunDisconnectSiblings, .waitingToRerun, .timer,
            when: "election_rerun_interval passed, standby_disconnect_on_failover", .disconnectingSiblings,
            "rerun: stop the WAL receiver, wait for the siblings",
            if: { m, t in t.now >= deadline(m) && m.settings.standbyDisconnectOnFailover }) { m, t in
            m.startFailover(t.now, rerunSentence(m), rerun: true)
        },
        row(.rerunElect, .waitingToRerun, .timer, when: "election_rerun_interval passed", .electing,
            "rerun: elect a promotion candidate again", if: { m, t in t.now >= deadline(m) }) { m, t in
            m.startFailover(t.now, rerunSentence(m), rerun: true)
        },
    ]

    static func deadline(_ m: FailoverMachine) -> Double {
        switch m.state {
        case .disconnectingSiblings(let until), .waitingToRerun(let until): until
        case .waitingForPrimary(_, let deadline): deadline
        default: .infinity
        }
    }

    static func rerunSentence(_ m: FailoverMachine) -> String {
        "election_rerun_interval (\(formatSeconds(m.settings.electionRerunInterval)) s) passed"
    }

    // MARK: - after the election: promote, wait for the winner, follow

    static let afterElection: [Transition] = [
        row(.promoted, .promoting, .promotion, when: "succeeded", .primary,
            "promoted: record repmgrd_failover_promote, this node is the primary", if: { _, t in t.flag }) { m, _ in
            guard case .promoting(let term) = m.state else { return [] }
            let (sentence, details) = promotedSentence(m, term: "for voting term \(term)")
            m.becomePrimary()
            return [.log(level: .notice, message: sentence),
                    .notify(event: .failoverPromote, success: true, details: details)]
        },
        row(.promotionFailed, .promoting, .promotion, when: "failed", .degraded,
            "promotion failed: record repmgrd_promote_error, degraded monitoring") { m, t in
            [.log(level: .error, message: "promote_command failed on \(m.me): \(t.detail); degraded monitoring until "
                  + "upstream \(m.upstream) reconnects"),
             .notify(event: .promoteError, success: false, details: "promote_command failed: \(t.detail)")]
                + m.enterDegraded(t.now)
        },
        row(.originalPrimaryReappeared, .waitingForPrimary, .primaryAppeared, when: "it is the lost primary", .monitoring,
            "the original primary is back: record repmgrd_failover_aborted, resume monitoring",
            if: { m, t in t.nodeID == m.upstreamNodeID }) { m, t in
            let details = "original primary \(m.upstream) reappeared - no action taken"
            return [.log(level: .notice, message: details + "; resuming monitoring"),
                    .notify(event: .failoverAborted, success: true, details: details)] + m.enterMonitoring(t.now)
        },
        row(.newPrimaryAppeared, .waitingForPrimary, .primaryAppeared, when: "another node", .following,
            "the new primary is up: follow it") { m, t in
            guard case .waitingForPrimary(let candidate, _) = m.state, let primary = t.nodeID else { return [] }
            m.state = .following(primaryID: primary)
            let note = primary == candidate ? "" : " (the election's candidate was \(m.name(candidate)))"
            return [.log(level: .notice, message: "\(m.name(primary)) is now primary\(note); following it"),
                    .follow(primaryID: primary)]
        },
        // Unlike repmgr, the winner that never became primary is remembered (`failedCandidates`) and left
        // out of the rerun, which then elects the next standby instead of the same node forever.
        row(.primaryNotificationTimeoutDisconnectSiblings, .waitingForPrimary, .timer,
            when: "primary_notification_timeout passed, standby_disconnect_on_failover", .disconnectingSiblings,
            "the winner never became primary: exclude it, rerun, stopping the WAL receiver first",
            if: { m, t in t.now >= deadline(m) && m.settings.standbyDisconnectOnFailover }) { m, t in
            let sentence = excludeFailedCandidate(&m)
            return m.startFailover(t.now, sentence, level: .warning, rerun: true)
        },
        row(.primaryNotificationTimeoutElect, .waitingForPrimary, .timer, when: "primary_notification_timeout passed",
            .electing, "the winner never became primary: exclude it, rerun the election",
            if: { m, t in t.now >= deadline(m) }) { m, t in
            let sentence = excludeFailedCandidate(&m)
            return m.startFailover(t.now, sentence, level: .warning, rerun: true)
        },
        row(.followed, .following, .follow, when: "succeeded", .monitoring,
            "following the new primary: record repmgrd_failover_follow, resume monitoring",
            if: { _, t in t.flag }) { m, t in
            let primary = t.nodeID ?? 0
            let (sentence, details) = followedSentence(m, primary)
            m.upstreamNodeID = primary
            return [.log(level: .notice, message: sentence),
                    .notify(event: .failoverFollow, success: true, details: details)] + m.enterMonitoring(t.now)
        },
        row(.followFailed, .following, .follow, when: "failed", .degraded,
            "follow failed: record a failed repmgrd_failover_follow, degraded monitoring") { m, t in
            let primary = t.nodeID ?? 0
            return [.log(level: .error, message: "follow_command failed to make \(m.me) follow \(m.name(primary)): "
                         + "\(t.detail); degraded monitoring"),
                    .notify(event: .failoverFollow, success: false,
                            details: "unable to follow new primary node \(primary): \(t.detail)")]
                + m.enterDegraded(t.now)
        },
    ]

    static func promotedSentence(_ m: FailoverMachine, term: String) -> (String, String) {
        let old = m.upstreamNodeID
        return ("\(m.me) was promoted to primary \(term); former primary \(old.map(m.name) ?? "unknown") marked as failed",
                "node \(m.settings.nodeID) promoted to primary; old primary \(old.map(String.init) ?? "unknown") "
                    + "marked as failed")
    }

    static func followedSentence(_ m: FailoverMachine, _ primary: Int) -> (String, String) {
        ("\(m.me) now follows new primary \(m.name(primary))",
         "node \(m.settings.nodeID) now following new upstream node \(primary)")
    }

    /// Remembers the candidate waited for as failed (left out of the next elections of this failover)
    /// and returns the sentence that says so.
    static func excludeFailedCandidate(_ m: inout FailoverMachine) -> String {
        guard case .waitingForPrimary(let candidate, _) = m.state else { return "no new primary appeared" }
        m.failedCandidates.insert(candidate)
        return "\(m.name(candidate)) did not become primary within "
            + "\(formatSeconds(m.settings.primaryNotificationTimeout)) s (primary_notification_timeout) "
            + "and is excluded from the election until a primary appears or the upstream returns"
    }
}

extension FailoverMachine {
    /// This node is now the primary: no upstream.
    mutating func becomePrimary() {
        state = isPausedState ? .paused : .primary
        isPrimary = true
        upstreamNodeID = nil
        upstreamReachable = true
    }

    private var isPausedState: Bool { state == .paused }
}

extension Trigger {
    /// The election input, for `.election`.
    var input: ElectionInput? {
        if case .election(let input) = event { input } else { nil }
    }
    /// `.won(term)`: the term.
    var wonTerm: Int? {
        if case .won(let term)? = outcome { term } else { nil }
    }
    /// `.lost(winner)`: the winner.
    var winner: Int? {
        if case .lost(let winner)? = outcome { winner } else { nil }
    }
    /// `.followExisting(primaryID)`: the primary.
    var existingPrimary: Int? {
        if case .followExisting(let id)? = outcome { id } else { nil }
    }
}
