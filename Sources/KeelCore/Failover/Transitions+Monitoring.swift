/// The rows for a healthy or lost upstream, degraded monitoring and pause (see `Transitions.table`).
extension Transitions {
    // MARK: - monitoring: the upstream is healthy

    static let monitoring: [Transition] = [
        row(.upstreamHealthy, .monitoring, .upstreamCheck, when: "reachable", .monitoring,
            "upstream reachable: check again after monitor_interval_secs", if: { _, t in t.flag }) { m, t in
            [.log(level: .debug, message: "upstream \(m.upstream) is reachable; "
                  + "next check in \(formatSeconds(m.settings.monitorInterval)) s")] + m.enterMonitoring(t.now)
        },
        // The failed check that notices the loss is the first of the reconnect_attempts (repmgr 5.3
        // `try_reconnect` tries at once, then every reconnect_interval): the upstream is deemed lost
        // (reconnect_attempts - 1) × reconnect_interval seconds after it went away.
        row(.upstreamLost, .monitoring, .upstreamCheck, when: "unreachable, reconnect_attempts > 1", .reconnecting,
            "upstream lost: record repmgrd_upstream_disconnect, retry every reconnect_interval",
            if: { m, t in !t.flag && m.settings.reconnectAttempts > 1 }) { m, t in
            m.upstreamReachable = false
            m.state = .reconnecting(since: t.now, attempts: 1)
            m.lastAttemptAt = t.now
            let s = m.settings
            return [.log(level: .warning, message: "unable to connect to upstream \(m.upstream) (attempt 1 of "
                         + "\(s.reconnectAttempts)); \(plural(s.reconnectAttempts - 1, "more attempt")) will be made, one every "
                         + "\(formatSeconds(s.reconnectInterval)) s (reconnect_attempts, reconnect_interval)"),
                    .notify(event: .upstreamDisconnect, success: true, details: "unable to connect to upstream \(m.upstream)"),
                    .scheduleCheck(at: t.now + s.reconnectInterval)]
        },
        row(.upstreamLostManual, .monitoring, .upstreamCheck, when: "unreachable, reconnect_attempts ≤ 1, failover=manual",
            .degraded, "upstream lost, no retries, manual failover: degraded monitoring",
            if: { m, t in !t.flag && m.settings.mode == .manual }) { m, t in
            lostAtOnce(&m) + m.requireManualFailover(t.now, "unable to connect to upstream \(m.upstream) "
                                                    + "(reconnect_attempts is \(m.settings.reconnectAttempts))")
        },
        row(.upstreamLostDisconnectSiblings, .monitoring, .upstreamCheck,
            when: "unreachable, reconnect_attempts ≤ 1, standby_disconnect_on_failover", .disconnectingSiblings,
            "upstream lost, no retries: stop the WAL receiver, wait for the siblings",
            if: { m, t in !t.flag && m.settings.standbyDisconnectOnFailover }) { m, t in
            lostAtOnce(&m) + m.startFailover(t.now, "unable to connect to upstream \(m.upstream) (reconnect_attempts is \(m.settings.reconnectAttempts))",
                                             level: .warning)
        },
        row(.upstreamLostElect, .monitoring, .upstreamCheck, when: "unreachable, reconnect_attempts ≤ 1", .electing,
            "upstream lost, no retries: elect a promotion candidate", if: { _, t in !t.flag }) { m, t in
            lostAtOnce(&m) + m.startFailover(t.now, "unable to connect to upstream \(m.upstream) (reconnect_attempts is \(m.settings.reconnectAttempts))",
                                             level: .warning)
        },
    ]

    static func lostAtOnce(_ m: inout FailoverMachine) -> [MonitorAction] {
        m.upstreamReachable = false
        return [.notify(event: .upstreamDisconnect, success: true, details: "unable to connect to upstream \(m.upstream)")]
    }

    // MARK: - reconnecting: (reconnect_attempts - 1) × reconnect_interval after the detecting check

    static let reconnecting: [Transition] = [
        row(.upstreamReconnected, .reconnecting, .upstreamCheck, when: "reachable", .monitoring,
            "upstream back: record repmgrd_upstream_reconnect, resume monitoring", if: { _, t in t.flag }) { m, t in
            let sentence = "reconnected to upstream \(m.upstream) after \(formatSeconds(m.elapsed(t.now))) seconds"
            return [.log(level: .notice, message: sentence),
                    .notify(event: .upstreamReconnect, success: true, details: sentence)] + m.enterMonitoring(t.now)
        },
        // An attempt counts only reconnect_interval after the previous one, whatever made the daemon
        // check earlier (the upstream watcher's notice of a closed socket, a pause change): attempts
        // stay spaced, so the upstream is deemed lost (reconnect_attempts - 1) × reconnect_interval
        // after the detecting check at the earliest.
        row(.reconnectTooSoon, .reconnecting, .upstreamCheck, when: "unreachable, reconnect_interval not over",
            .reconnecting, "a check before reconnect_interval has passed is not an attempt: check again when it has",
            if: { m, t in !t.flag && t.now < m.nextAttemptAt }) { m, t in
            [.log(level: .debug, message: "upstream \(m.upstream) is still unreachable; the next attempt counts at "
                  + "\(formatSeconds(m.nextAttemptAt)) s (one every \(formatSeconds(m.settings.reconnectInterval)) s, "
                  + "reconnect_interval)"),
             .scheduleCheck(at: m.nextAttemptAt)]
        },
        row(.reconnectFailed, .reconnecting, .upstreamCheck, when: "unreachable, attempts left", .reconnecting,
            "reconnection attempt failed: try again after reconnect_interval",
            if: { m, t in !t.flag && attempts(m) + 1 < m.settings.reconnectAttempts }) { m, t in
            guard case .reconnecting(let since, let made) = m.state else { return [] }
            m.state = .reconnecting(since: since, attempts: made + 1)
            m.lastAttemptAt = t.now
            return [.log(level: .info, message: "attempt \(made + 1) of \(m.settings.reconnectAttempts) "
                         + "to upstream \(m.upstream) failed; next attempt in "
                         + "\(formatSeconds(m.settings.reconnectInterval)) s"),
                    .scheduleCheck(at: t.now + m.settings.reconnectInterval)]
        },
        row(.reconnectExhaustedManual, .reconnecting, .upstreamCheck, when: "unreachable, no attempts left, failover=manual",
            .degraded, "upstream deemed lost, manual failover: degraded monitoring",
            if: { m, t in !t.flag && m.settings.mode == .manual }) { m, t in
            m.requireManualFailover(t.now, givenUp(m, t))
        },
        row(.reconnectExhaustedDisconnectSiblings, .reconnecting, .upstreamCheck,
            when: "unreachable, no attempts left, standby_disconnect_on_failover", .disconnectingSiblings,
            "upstream deemed lost: stop the WAL receiver, wait for the siblings",
            if: { m, t in !t.flag && m.settings.standbyDisconnectOnFailover }) { m, t in
            m.startFailover(t.now, givenUp(m, t), level: .warning)
        },
        row(.reconnectExhaustedElect, .reconnecting, .upstreamCheck, when: "unreachable, no attempts left", .electing,
            "upstream deemed lost: elect a promotion candidate", if: { _, t in !t.flag }) { m, t in
            m.startFailover(t.now, givenUp(m, t), level: .warning)
        },
    ]

    static func attempts(_ m: FailoverMachine) -> Int {
        if case .reconnecting(_, let made) = m.state { made } else { 0 }
    }

    static func givenUp(_ m: FailoverMachine, _ t: Trigger) -> String {
        "unable to reach upstream \(m.upstream) in \(plural(attempts(m) + 1, "attempt")) over "
            + "\(formatSeconds(m.elapsed(t.now))) s"
    }

    // MARK: - degraded: cannot act, keep watching

    static let degraded: [Transition] = [
        row(.degradedUpstreamBack, .degraded, .upstreamCheck, when: "reachable", .monitoring,
            "upstream back: record repmgrd_upstream_reconnect, resume monitoring", if: { _, t in t.flag }) { m, t in
            let sentence = "reconnected to upstream \(m.upstream) after \(formatSeconds(m.elapsed(t.now))) seconds "
                + "in degraded monitoring"
            return [.log(level: .notice, message: sentence + "; resuming monitoring"),
                    .notify(event: .upstreamReconnect, success: true, details: sentence)] + m.enterMonitoring(t.now)
        },
        row(.degradedTimeoutOnCheck, .degraded, .upstreamCheck, when: "unreachable, degraded_monitoring_timeout passed",
            .degraded, "degraded too long: record repmgrd_shutdown, exit",
            if: { m, t in m.degradedTimedOut(t.now) }) { m, t in
            m.upstreamReachable = false
            return m.exitAfterDegradedTimeout(t.now)
        },
        row(.degradedStillLost, .degraded, .upstreamCheck, when: "unreachable", .degraded,
            "upstream still lost: check again after monitor_interval_secs") { m, t in
            m.upstreamReachable = false
            return [.log(level: .debug, message: "monitoring node in degraded state for "
                         + "\(formatSeconds(m.elapsed(t.now))) seconds; upstream \(m.upstream) is still unreachable"),
                    .scheduleCheck(at: t.now + m.settings.monitorInterval)]
        },
        row(.degradedTimeoutOnTimer, .degraded, .timer, when: "degraded_monitoring_timeout passed", .degraded,
            "degraded too long: record repmgrd_shutdown, exit", if: { m, t in m.degradedTimedOut(t.now) }) { m, t in
            m.exitAfterDegradedTimeout(t.now)
        },
        row(.degradedNewPrimaryManual, .degraded, .primaryAppeared, when: "failover=manual, not yet reported", .degraded,
            "a new primary, manual failover: record standby_disconnect_manual once",
            if: { m, t in m.settings.mode == .manual && t.nodeID != m.upstreamNodeID && t.nodeID != m.manualNoticeSent }) {
            m, t in
            let primary = t.nodeID ?? 0
            m.manualNoticeSent = primary
            return [.log(level: .notice, message: "\(m.name(primary)) is now primary, but \(m.me) is in manual failover "
                         + "mode and will not follow it: manually execute \"keel standby follow\""),
                    .notify(event: .standbyDisconnectManual, success: true,
                            details: "node \(m.settings.nodeID) is in manual failover mode and is now disconnected "
                                + "from streaming replication")]
        },
        row(.degradedNewPrimaryFollow, .degraded, .primaryAppeared, when: "failover=automatic, another node", .following,
            "a new primary: follow it",
            if: { m, t in m.settings.mode == .automatic && t.nodeID != m.upstreamNodeID }) { m, t in
            let primary = t.nodeID ?? 0
            m.state = .following(primaryID: primary)
            return [.log(level: .notice, message: "\(m.name(primary)) is now primary; following it"),
                    .follow(primaryID: primary)]
        },
    ]

    // MARK: - paused: observe and notify, never act

    static let paused: [Transition] = [
        row(.pausedUpstreamLost, .paused, .upstreamCheck, when: "unreachable, was reachable, not primary", .paused,
            "PAUSE: upstream lost: record repmgrd_upstream_disconnect, no failover",
            if: { m, t in !t.flag && m.upstreamReachable && !m.isPrimary }) { m, t in
            m.upstreamReachable = false
            return [.log(level: .warning, message: "PAUSE: unable to connect to upstream \(m.upstream); no failover "
                         + "while paused"),
                    .notify(event: .upstreamDisconnect, success: true, details: "unable to connect to upstream \(m.upstream)"),
                    .scheduleCheck(at: t.now + m.settings.monitorInterval)]
        },
        row(.pausedUpstreamBack, .paused, .upstreamCheck, when: "reachable, was unreachable, not primary", .paused,
            "PAUSE: upstream back: record repmgrd_upstream_reconnect",
            if: { m, t in t.flag && !m.upstreamReachable && !m.isPrimary }) { m, t in
            m.upstreamReachable = true
            let sentence = "reconnected to upstream \(m.upstream)"
            return [.log(level: .notice, message: "PAUSE: " + sentence),
                    .notify(event: .upstreamReconnect, success: true, details: sentence),
                    .scheduleCheck(at: t.now + m.settings.monitorInterval)]
        },
        row(.pausedUpstreamCheck, .paused, .upstreamCheck, when: "unchanged, not primary", .paused,
            "PAUSE: nothing changed: check again after monitor_interval_secs", if: { m, _ in !m.isPrimary }) { m, t in
            [.log(level: .debug, message: "PAUSE: upstream \(m.upstream) is "
                  + "\(t.flag ? "reachable" : "still unreachable"); no failover while paused"),
             .scheduleCheck(at: t.now + m.settings.monitorInterval)]
        },
        row(.pausedPromotionResult, .paused, .promotion, .paused,
            "PAUSE: a promotion started before the pause ended: record its event") { m, t in
            guard t.flag else {
                return [.log(level: .error, message: "PAUSE: the promotion started before the pause failed on \(m.me): "
                             + t.detail),
                        .notify(event: .promoteError, success: false, details: "promote_command failed: \(t.detail)")]
            }
            let (sentence, details) = promotedSentence(m, term: "(promotion started before the pause)")
            m.becomePrimary()
            return [.log(level: .notice, message: "PAUSE: " + sentence),
                    .notify(event: .failoverPromote, success: true, details: details)]
        },
        row(.pausedFollowResult, .paused, .follow, .paused,
            "PAUSE: a follow started before the pause ended: record its event") { m, t in
            let primary = t.nodeID ?? 0
            guard t.flag else {
                return [.log(level: .error, message: "PAUSE: the follow started before the pause failed to make \(m.me) "
                             + "follow \(m.name(primary)): \(t.detail)"),
                        .notify(event: .failoverFollow, success: false,
                                details: "unable to follow new primary node \(primary): \(t.detail)")]
            }
            let (sentence, details) = followedSentence(m, primary)
            m.upstreamNodeID = primary
            m.upstreamReachable = true
            return [.log(level: .notice, message: "PAUSE: " + sentence),
                    .notify(event: .failoverFollow, success: true, details: details)]
        },
        row(.unpausedPrimary, .paused, .pauseChanged, when: "unpaused, this node is primary", .primary,
            "unpaused: this node is the primary", if: { m, t in !t.flag && m.isPrimary }) { m, _ in
            m.state = .primary
            return [.log(level: .notice, message: "monitoring resumed (unpaused); \(m.me) is the primary")]
        },
        // The failed check made while paused noticed the loss, so it is attempt 1 of reconnect_attempts
        // (as in `upstreamLost`). With reconnect_attempts ≤ 1 this row is skipped: `unpaused` checks at
        // once, and that check elects at once (`upstreamLostElect` and its siblings).
        row(.unpausedUpstreamLost, .paused, .pauseChanged, when: "unpaused, upstream unreachable, reconnect_attempts > 1",
            .reconnecting, "unpaused with the upstream lost: continue the reconnection attempts",
            if: { m, t in !t.flag && !m.upstreamReachable && m.settings.reconnectAttempts > 1 }) { m, t in
            m.state = .reconnecting(since: t.now, attempts: 1)
            m.lastAttemptAt = t.now
            let s = m.settings
            return [.log(level: .notice, message: "monitoring resumed (unpaused) with upstream \(m.upstream) unreachable "
                         + "(attempt 1 of \(s.reconnectAttempts) failed while paused); "
                         + "\(plural(s.reconnectAttempts - 1, "more attempt")) will be made, one every "
                         + "\(formatSeconds(s.reconnectInterval)) s, before a failover"),
                    .scheduleCheck(at: t.now + s.reconnectInterval)]
        },
        row(.unpaused, .paused, .pauseChanged, when: "unpaused", .monitoring, "unpaused: check the upstream now",
            if: { _, t in !t.flag }) { m, t in
            [.log(level: .notice, message: "monitoring resumed (unpaused); checking upstream \(m.upstream) now")]
                + m.enterMonitoring(t.now, checkAt: t.now)
        },
        row(.pausedIgnored, .paused, nil, .paused, "PAUSE: anything else is only logged") { m, t in
            [.log(level: .info, message: "PAUSE: ignoring \(m.describe(t.event)); no failover action is taken while paused")]
        },
        row(.pause, nil, .pauseChanged, when: "paused", .paused,
            "paused: keep checking and notifying, start no failover step", if: { _, t in t.flag }) { m, t in
            let was = m.state.kind.rawValue
            m.state = .paused
            return [.log(level: .notice, message: "PAUSE: automatic failover paused (was \(was)); monitoring and "
                         + "notifications continue, no promotion or follow will be started")]
                + m.restartWALReceiver()
                + (m.isPrimary ? [] : [.scheduleCheck(at: t.now + m.settings.monitorInterval)])
        },
    ]
}
