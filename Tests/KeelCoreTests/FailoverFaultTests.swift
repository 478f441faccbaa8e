import Testing
@testable import KeelCore

extension Runs {
    /// Scenarios of the fault rows: attempts spaced whatever wakes the daemon, an election that cannot be
    /// gathered, an upstream that comes back meanwhile.
    static let faults: [MachineScenario] = [
        MachineScenario("the watcher's notice and the regular check in the same instant are one attempt: "
                        + "the election (attempts - 1) × interval after the detecting check",
                        with { $0.reconnectAttempts = 3; $0.reconnectInterval = 1; $0.monitorInterval = 1 }, [
            Step(check(0, true), .monitoring, [.scheduleCheck(at: 1)]),
            Step(check(1, false), .reconnecting(since: 1, attempts: 1), [disconnected, .scheduleCheck(at: 2)],
                 says: "(attempt 1 of 3)"),
            Step(check(1.001, false), .reconnecting(since: 1, attempts: 1), [.scheduleCheck(at: 2)],
                 says: "the next attempt counts at 2 s"),
            Step(check(2, false), .reconnecting(since: 1, attempts: 2), [.scheduleCheck(at: 3)], says: "attempt 2 of 3"),
            Step(check(2.5, false), .reconnecting(since: 1, attempts: 2), [.scheduleCheck(at: 3)]),
            Step(check(3, false), .electing, [.gatherElection], says: "in 3 attempts over 2 s"),
        ]),
        MachineScenario("the election cannot be gathered: retried after monitor_interval_secs, then held",
                        with { $0.reconnectAttempts = 1 }, [
            Step(check(0, false), .electing, [disconnected, .gatherElection]),
            Step(.electionUnavailable(now: 0.5, reason: "metadata unreadable"), .electing,
                 [.scheduleCheck(at: 2.5)], says: "metadata unreadable; trying again in 2 s"),
            Step(check(2.5, false), .electing, [.gatherElection], says: "still unreachable; gathering"),
            Step(.electionUnavailable(now: 2.6, reason: "timeout"), .electing, [.scheduleCheck(at: 4.6)]),
            Step(check(4.6, false), .electing, [.gatherElection]),
            Step(.election(win(3)), .promoting(term: 8), [.promote(term: 8)]),
        ]),
        MachineScenario("the election cannot be gathered and the upstream comes back: monitoring, WAL receiver restarted",
                        with { $0.reconnectAttempts = 1; $0.standbyDisconnectOnFailover = true }, [
            Step(check(0, false), .disconnectingSiblings(until: 30), [disconnected, .disconnectWALReceiver, .scheduleTimer(at: 30)]),
            Step(.siblingsDisconnected(now: 1), .electing, [.gatherElection]),
            Step(.electionUnavailable(now: 1, reason: "timeout"), .electing, [.scheduleCheck(at: 3)]),
            Step(check(3, true), .monitoring,
                 [.enableWALReceiver,
                  reconnected("reconnected to upstream node \"alpha\" (ID: 1) before an election could be held"),
                  .scheduleCheck(at: 5)], says: "failover abandoned"),
        ]),
    ]
}

/// Properties of the table under faults: attempts spacing, no state without an exit.
@Suite("FailoverMachine under faults")
struct FailoverFaultTests {
    /// A deterministic generator (an LCG), values in 0..<bound.
    struct Random {
        var x: UInt64
        mutating func next(_ bound: UInt64) -> UInt64 {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            return (x >> 33) % bound
        }
    }

    @Test("property: whatever wakes the daemon, the election never starts before (reconnect_attempts - 1) × reconnect_interval after the check that noticed the loss",
          arguments: Array(UInt64(1)...UInt64(40)))
    func attemptsAreSpaced(seed: UInt64) {
        var random = Random(x: seed)
        let attempts = Int(random.next(6)) + 2
        let interval = [0.5, 1, 1.5, 10][Int(random.next(4))]
        var machine = FailoverMachine(settings: Runs.with {
            $0.reconnectAttempts = attempts; $0.reconnectInterval = interval; $0.monitorInterval = 1
        }, upstreamNodeID: 1)
        var now = 0.0
        var lostAt: Double?
        var elections = 0
        for _ in 0..<300 {
            // Checks at random moments, often several in the same instant; the upstream mostly down.
            now += [0, 0, 0.001, 0.1, interval / 2, interval][Int(random.next(6))]
            let event: MonitorEvent = random.next(10) == 0 ? .timer(now: now) : .upstreamCheck(now: now, reachable: random.next(25) == 0)
            let before = machine.state.kind
            let actions = machine.handle(event)
            if before == .monitoring, machine.state.kind == .reconnecting { lostAt = now }
            if actions.contains(.gatherElection), let lostAt {
                elections += 1
                #expect(now - lostAt >= Double(attempts - 1) * interval - 1e-9,
                        "elected \(now - lostAt) s after the loss; attempts \(attempts), interval \(interval)")
            }
            if machine.state.kind == .electing {
                // Start over: the election is another test's business.
                machine = FailoverMachine(settings: machine.settings, upstreamNodeID: 1)
                lostAt = nil
            }
        }
        #expect(elections > 0 || attempts * Int(interval) > 30)
    }

    @Test("no state without an exit: a row for the timer or the upstream check leaves it, or it waits only for action results whose every row leaves it",
          arguments: MonitorState.Kind.allCases)
    func everyStateHasAnExit(kind: MonitorState.Kind) {
        guard kind != .primary else { return }  // the standby side ends there; the primary monitor takes over
        let rows = Transitions.table.filter { $0.from == kind }
        let leavesOnClock = rows.contains { ($0.on == .timer || $0.on == .upstreamCheck) && $0.to != kind }
        let results = Set(rows.compactMap(\.on).filter(\.isActionResult))
        let leavesOnResults = !results.isEmpty && results.allSatisfy { result in
            rows.filter { $0.on == result }.allSatisfy { $0.to != kind }
        }
        let leavesOnPause = kind == .paused && rows.contains { $0.on == .pauseChanged && $0.to != kind }
        #expect(leavesOnClock || leavesOnResults || leavesOnPause, "\(kind) has no exit")
    }

    @Test("every action result the daemon reports has a row in each state that starts the action")
    func actionResultsHaveRows() {
        let starts: [(MonitorAction, MonitorEvent.Kind)] = [
            (.gatherElection, .election), (.gatherElection, .electionUnavailable),
            (.runValidation(Runs.validationContext), .validation), (.promote(term: 1), .promotion),
            (.follow(primaryID: 3), .follow),
        ]
        for row in Transitions.table where row.from != nil && row.from != .paused {
            for kind in MonitorState.Kind.allCases where kind == row.to {
                let expected = Transitions.expectedEvents(in: kind)
                for (_, result) in starts where kind == stateAwaiting(result) {
                    #expect(expected.contains(result), "\(kind) does not expect \(result)")
                }
            }
        }
    }

    private func stateAwaiting(_ result: MonitorEvent.Kind) -> MonitorState.Kind? {
        switch result {
        case .election, .electionUnavailable: .electing
        case .validation: .validating
        case .promotion: .promoting
        case .follow: .following
        default: nil
        }
    }

    @Test("the observations each state needs are named by the table")
    func observationsByState() {
        #expect(Transitions.expectedEvents(in: .disconnectingSiblings).isSuperset(of: [.siblingsDisconnected, .timer]))
        #expect(Transitions.expectedEvents(in: .degraded).isSuperset(of: [.upstreamCheck, .primaryAppeared, .timer]))
        #expect(Transitions.expectedEvents(in: .waitingForPrimary).isSuperset(of: [.primaryAppeared, .timer]))
        #expect(Transitions.expectedEvents(in: .electing).isSuperset(of: [.election, .electionUnavailable, .upstreamCheck]))
        for kind in MonitorState.Kind.allCases { #expect(Transitions.expectedEvents(in: kind).contains(.pauseChanged)) }
    }

    @Test("a reloaded configuration keeps the WAL receiver fact and the last attempt")
    func reconfiguredKeepsFacts() {
        var machine = FailoverMachine(settings: Runs.with { $0.reconnectAttempts = 1; $0.standbyDisconnectOnFailover = true },
                                      upstreamNodeID: 1)
        _ = machine.handle(Runs.check(0, false))
        #expect(machine.walReceiverDisconnected)
        let reloaded = machine.reconfigured(with: Runs.with { $0.reconnectAttempts = 1; $0.standbyDisconnectOnFailover = true; $0.priority = 50 })
        #expect(reloaded.walReceiverDisconnected)
        #expect(reloaded.state == machine.state)
    }
}

extension Runs {
    static let validationContext = ValidationContext(nodeID: 2, nodeName: "bravo", visible: 2, sharedUpstream: 2, total: 3,
                                                     term: 1, candidates: [])
}
