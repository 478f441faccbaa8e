/// The names of the rows of `Transitions.table`, one per transition.
public enum TransitionID: String, Sendable, Equatable, CaseIterable {
    case upstreamHealthy, upstreamLost, upstreamLostManual, upstreamLostDisconnectSiblings, upstreamLostElect
    case upstreamReconnected, reconnectTooSoon, reconnectFailed, reconnectExhaustedManual, reconnectExhaustedDisconnectSiblings
    case reconnectExhaustedElect
    case siblingsDisconnected, siblingWaitOver
    case electionWonValidate, electionWon, electionLost, electionFollowExisting, electionPrimaryReappeared
    case electionBlocked, electionCancelled, electionNoCandidate
    case electionUnavailable, electingUpstreamBack, electionRetry
    case validationAllowed, validationVetoed
    case rerunUpstreamBack, rerunUpstreamStillLost, rerunDisconnectSiblings, rerunElect
    case promoted, promotionFailed
    case originalPrimaryReappeared, newPrimaryAppeared, primaryNotificationTimeoutDisconnectSiblings
    case primaryNotificationTimeoutElect
    case followed, followFailed
    case degradedUpstreamBack, degradedTimeoutOnCheck, degradedStillLost, degradedTimeoutOnTimer
    case degradedNewPrimaryManual, degradedNewPrimaryFollow
    case pausedUpstreamLost, pausedUpstreamBack, pausedUpstreamCheck, pausedPromotionResult, pausedFollowResult
    case unpausedPrimary, unpausedUpstreamLost, unpaused, pausedIgnored
    case pause
}

/// One row of the transition table (pg_auto_failover's `KeeperFSMTransition`): in state `from`
/// (`nil` = any), on event `on` (`nil` = any), when `condition` holds, run the effect and move to
/// `to`. `comment` is the row's meaning in one line; the effect logs the same sentence with the
/// names, IDs, LSNs and seconds of the moment.
public struct Transition: Sendable {
    /// The row's name.
    public let id: TransitionID
    /// The state the row leaves; `nil` = any state not matched by an earlier row.
    public let from: MonitorState.Kind?
    /// The event the row handles; `nil` = any event not matched by an earlier row.
    public let on: MonitorEvent.Kind?
    /// The condition, in words ("" = always).
    public let when: String
    /// The state the row enters.
    public let to: MonitorState.Kind
    /// What happens, in one line (the generic form of the log line).
    public let comment: String

    let condition: @Sendable (FailoverMachine, Trigger) -> Bool
    let effect: @Sendable (inout FailoverMachine, Trigger) -> [MonitorAction]

    /// True when the row is for `state` and `event` (its condition aside).
    func applies(to state: MonitorState.Kind, on event: MonitorEvent.Kind) -> Bool {
        (from == nil || from == state) && (on == nil || on == event)
    }
}

/// keeld's transitions as data. `FailoverMachine.handle` runs the first row that matches, so
/// specific rows come before general ones; `graphviz()` draws the table.
public enum Transitions {
    /// Every transition, in matching order.
    public static let table: [Transition] = monitoring + reconnecting + failover + afterElection + degraded + paused

    /// The events `kind`'s rows expect (catch-all rows aside): what the daemon must observe or deliver
    /// while in that state. `upstreamCheck`: check the upstream; `primaryAppeared`: look for a primary;
    /// `siblingsDisconnected`: watch the siblings' WAL receivers; `timer`: keep the scheduled deadline;
    /// `pauseChanged`: read the pause flag; the rest are the results of the actions the state started.
    public static func expectedEvents(in kind: MonitorState.Kind) -> Set<MonitorEvent.Kind> {
        Set(table.filter { $0.from == kind || $0.from == nil }.compactMap(\.on))
    }

    /// The row named `id`.
    public static func row(_ id: TransitionID) -> Transition {
        guard let row = table.first(where: { $0.id == id }) else { preconditionFailure("no row \(id)") }
        return row
    }

    /// The table as a Graphviz digraph (`dot -Tsvg`): one edge per row, labelled with the event,
    /// the condition and the row's name.
    public static func graphviz() -> String {
        var lines = ["digraph keeld {", "  rankdir=LR;"]
        for row in table {
            let from = row.from?.rawValue ?? "any"
            let on = row.on?.rawValue ?? "any event"
            let when = row.when.isEmpty ? "" : " [\(row.when)]"
            lines.append("  \"\(from)\" -> \"\(row.to.rawValue)\" [label=\"\(on)\(when)\\n\(row.id.rawValue)\"];")
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    typealias Condition = @Sendable (FailoverMachine, Trigger) -> Bool
    typealias Effect = @Sendable (inout FailoverMachine, Trigger) -> [MonitorAction]

    static func row(_ id: TransitionID, _ from: MonitorState.Kind?, _ on: MonitorEvent.Kind?, when: String = "",
                            _ to: MonitorState.Kind, _ comment: String, if condition: @escaping Condition = { _, _ in true },
                            do effect: @escaping Effect) -> Transition {
        Transition(id: id, from: from, on: on, when: when, to: to, comment: comment, condition: condition, effect: effect)
    }
}
