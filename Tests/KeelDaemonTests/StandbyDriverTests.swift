import Testing
import KeelCore
@testable import KeelDaemon

/// A driver over a fake port and a fake clock, run as keeld's loop would: tick, "sleep" until the next
/// deadline, tick again. `script` changes the world at given moments; `received` collects which events
/// each state was fed.
final class DriverRun {
    let clock = FakeClock()
    let port: FakeClusterPort
    let facts: MemoryFacts
    private(set) var driver: StandbyDriver
    private(set) var received: [MonitorState.Kind: Set<MonitorEvent.Kind>] = [:]
    private(set) var states: [MonitorState.Kind] = []

    init(_ settings: FailoverSettings, facts: MemoryFacts = MemoryFacts()) {
        port = FakeClusterPort(settings: settings, clock: clock)
        self.facts = facts
        driver = DriverRun.driver(settings, port: port, facts: facts, clock: clock)
        observe()
    }

    static func driver(_ settings: FailoverSettings, port: FakeClusterPort, facts: MemoryFacts, clock: FakeClock) -> StandbyDriver {
        let machine = FailoverMachine(settings: settings, upstreamNodeID: 1, nodeNames: [1: "alpha", 2: "bravo", 3: "charlie", 4: "delta"])
        return StandbyDriver(machine: machine, port: port, facts: facts, paused: false, clock: { [clock] in clock.now })
    }

    private func observe() {
        driver.onEvent = { [unowned self] state, event in
            received[state.kind, default: []].insert(event.kind)
        }
    }

    /// keeld restarted (a crash or a stop): a new driver and machine over the same world and facts.
    func restart() {
        driver = DriverRun.driver(port.settings, port: port, facts: facts, clock: clock)
        observe()
        driver.resume()
    }

    /// Runs until `until` (seconds) or until the local server leaves recovery; `script(now)` runs before
    /// each tick. Each tick is fed `woken` when `wakeEvery` says so (the upstream watcher's notice).
    @discardableResult
    func run(until: Double, wakeEvery: ((Double) -> Bool)? = nil,
             script: (Double, FakeClusterPort) -> Void) async throws -> StandbyDriver.Outcome {
        var woken = false
        while clock.now <= until {
            script(clock.now, port)
            let outcome = try await driver.tick(woken: woken)
            states.append(driver.machine.state.kind)
            if outcome != .running { return outcome }
            woken = wakeEvery?(clock.now) ?? false
            // A wake-up comes 10 ms later; otherwise the loop sleeps until the driver's next deadline.
            clock.now = woken ? clock.now + 0.01 : max(clock.now, min(driver.nextDeadline, until + 1))
        }
        return .running
    }

    var kind: MonitorState.Kind { driver.machine.state.kind }
}

/// Fast settings: 1 s checks, 3 attempts 1 s apart, automatic failover.
let fast = FailoverSettings(nodeID: 2, mode: .automatic, monitorInterval: 1, reconnectAttempts: 3, reconnectInterval: 1,
                            siblingNodesDisconnectTimeout: 5, electionRerunInterval: 3, primaryNotificationTimeout: 4)

func with(_ change: (inout FailoverSettings) -> Void) -> FailoverSettings {
    var settings = fast
    change(&settings)
    return settings
}

@Suite("keeld's standby loop over a fake cluster", .serialized)
struct StandbyDriverTests {
    @Test("a healthy upstream is checked every monitor_interval_secs and nothing else happens")
    func healthy() async throws {
        let run = DriverRun(fast)
        try await run.run(until: 10) { _, _ in }
        #expect(run.kind == .monitoring)
        #expect(run.port.checks.count == 11)
        #expect(run.port.events.isEmpty)
    }

    @Test("the watcher's notice and the regular check do not both count: the election comes (attempts - 1) × interval after the loss")
    func attemptsSpacedWhateverWakes() async throws {
        let run = DriverRun(fast)
        // The upstream dies at 2.5; the watcher wakes the loop again and again, immediately.
        try await run.run(until: 8, wakeEvery: { now in now >= 2.5 && now < 6 }) { now, port in
            if now >= 2.5 { port.upstreamUp = false }
        }
        let firstFailure = try #require(run.port.checks.first { $0 >= 2.5 })
        let election = try #require(run.port.gathers.first)
        #expect(election - firstFailure >= 2, "elected \(election - firstFailure) s after the first failed check")
        #expect(run.port.actions.contains("promote 8"))
    }

    @Test("an election that cannot be gathered is retried every monitor interval and abandoned when the upstream returns")
    func electionUnavailable() async throws {
        let run = DriverRun(with { $0.reconnectAttempts = 1; $0.standbyDisconnectOnFailover = true })
        try await run.run(until: 12) { now, port in
            port.upstreamUp = !(2...9).contains(now)
            port.gatherFailure = "metadata unreadable"
            port.siblingsStopped = now >= 3
        }
        #expect(run.port.gathers.count >= 4)
        #expect(run.received[.electing]?.isSuperset(of: [.electionUnavailable, .upstreamCheck]) == true)
        #expect(run.kind == .monitoring)
        // The WAL receiver stopped for the election runs again, and nothing is left in the facts.
        #expect(run.port.actions == ["stop WAL receiver", "start WAL receiver"])
        #expect(run.port.primaryConninfo == "host=alpha port=5432 user=repmgr")
        #expect(run.facts.stored == nil)
        #expect(run.port.events.contains(.upstreamReconnect))
    }

    @Test("standby_disconnect_on_failover: the siblings' stopped receivers are observed, so the election does not wait for the timeout")
    func siblingsDisconnectedIsProduced() async throws {
        let run = DriverRun(with { $0.reconnectAttempts = 1; $0.standbyDisconnectOnFailover = true; $0.siblingNodesDisconnectTimeout = 30 })
        try await run.run(until: 10) { now, port in
            port.upstreamUp = now < 1
            port.siblingsStopped = now >= 2
        }
        #expect(run.received[.disconnectingSiblings]?.contains(.siblingsDisconnected) == true)
        let gathered = try #require(run.port.gathers.first)
        #expect(gathered < 4, "gathered at \(gathered), not after the 30 s timeout")
        #expect(run.port.actions.contains("promote 8"))
    }

    @Test("degraded monitoring sees a new primary and follows it (automatic failover)")
    func degradedFollowsNewPrimary() async throws {
        let run = DriverRun(fast)
        try await run.run(until: 12) { now, port in
            port.upstreamUp = now < 1
            port.charlieReachable = false  // 1 of 2 standbys visible: no quorum, cancelled, degraded
            if now >= 8 { port.primaries = [4] }
        }
        #expect(run.states.contains(.degraded))
        #expect(run.received[.degraded]?.contains(.primaryAppeared) == true)
        #expect(run.port.actions.contains("follow 4"))
        #expect(run.kind == .monitoring)
    }

    @Test("failover=manual in degraded monitoring reports a new primary once and never follows it")
    func degradedManualReportsOnce() async throws {
        let run = DriverRun(with { $0.mode = .manual })
        try await run.run(until: 12) { now, port in
            port.upstreamUp = now < 1
            if now >= 6 { port.primaries = [4] }
        }
        #expect(run.port.events.filter { $0 == .standbyDisconnectManual }.count == 1)
        #expect(!run.port.actions.contains { $0.hasPrefix("follow") || $0.hasPrefix("promote") })
    }

    @Test("losing the election: the winner is watched until it is primary, then followed; a winner that never shows reruns the election")
    func waitingForPrimary() async throws {
        let run = DriverRun(fast)
        try await run.run(until: 8) { now, port in
            port.upstreamUp = now < 1
            port.charlieLSN = 0x6000
            if now >= 5 { port.primaries = [3] }
        }
        #expect(run.received[.waitingForPrimary]?.contains(.primaryAppeared) == true)
        #expect(run.port.actions.contains("follow 3"))

        let never = DriverRun(fast)
        try await never.run(until: 12) { now, port in
            port.upstreamUp = now < 1
            port.charlieLSN = 0x6000
        }
        #expect(never.received[.waitingForPrimary]?.contains(.timer) == true)
        #expect(never.port.gathers.count >= 2)
    }

    @Test("a vetoed election waits election_rerun_interval, checking the upstream, then reruns and promotes")
    func vetoThenRerun() async throws {
        let run = DriverRun(with { $0.hasValidationCommand = true })
        let outcome = try await run.run(until: 15) { now, port in
            port.upstreamUp = now < 1
            port.validationAllows = now >= 6
        }
        #expect(run.received[.waitingToRerun]?.isSuperset(of: [.timer, .upstreamCheck]) == true)
        #expect(run.port.actions.filter { $0 == "validate" }.count >= 2)
        #expect(run.port.actions.last == "promote 8")
        #expect(outcome == .leftRecovery)
    }

    @Test("a failed promotion degrades; degraded_monitoring_timeout then stops keeld")
    func promotionFailsThenTimeout() async throws {
        let run = DriverRun(with { $0.degradedMonitoringTimeout = 5 })
        await #expect(throws: KeelError.self) {
            try await run.run(until: 20) { now, port in
                port.upstreamUp = now < 1
                port.promoteSucceeds = false
            }
        }
        #expect(run.port.events.contains(.promoteError))
        #expect(run.port.events.contains(.daemonShutdown))
    }

    /// The states that persist between ticks, each with a world that reaches it.
    static var persistent: [(MonitorState.Kind, FailoverSettings, (Double, FakeClusterPort) -> Void)] { [
            (.monitoring, fast, { _, _ in }),
            (.reconnecting, fast, { now, port in port.upstreamUp = now < 1 }),
            (.disconnectingSiblings, with { $0.standbyDisconnectOnFailover = true },
             { now, port in port.upstreamUp = now < 1 }),
            (.electing, fast, { now, port in port.upstreamUp = now < 1; port.gatherFailure = "unreadable" }),
            (.waitingToRerun, with { $0.hasValidationCommand = true },
             { now, port in port.upstreamUp = now < 1; port.validationAllows = false }),
            (.waitingForPrimary, fast, { now, port in port.upstreamUp = now < 1; port.charlieLSN = 0x6000 }),
            (.degraded, with { $0.mode = .manual }, { now, port in port.upstreamUp = now < 1 }),
        ] }

    /// A run of `world` paused for 2 s once it reaches `kind`.
    static func pausedRun(in kind: MonitorState.Kind, _ settings: FailoverSettings,
                          _ world: @escaping (Double, FakeClusterPort) -> Void) async throws -> DriverRun {
        let run = DriverRun(settings)
        var pausedAt: Double?
        try await run.run(until: 20) { now, port in
            world(now, port)
            if pausedAt == nil, run.kind == kind { pausedAt = now; port.local?.paused = true }
            if let at = pausedAt, now >= at + 2 { port.local?.paused = false }
        }
        return run
    }

    @Test("pause and unpause reach the machine in every state that persists between ticks")
    func pauseEverywhere() async throws {
        for (kind, settings, world) in Self.persistent {
            let run = try await Self.pausedRun(in: kind, settings, world)
            #expect(run.received[kind]?.contains(.pauseChanged) == true, "\(kind) never saw the pause")
            #expect(run.received[.paused]?.contains(.pauseChanged) == true, "\(kind): the unpause never arrived")
            #expect(run.received[.paused]?.contains(.upstreamCheck) == true)
        }
    }

    @Test("every state receives every event its rows expect, across the runs above")
    func everyExpectedEventArrives() async throws {
        var received: [MonitorState.Kind: Set<MonitorEvent.Kind>] = [:]
        func merge(_ run: DriverRun) { for (k, v) in run.received { received[k, default: []].formUnion(v) } }
        for (settings, world) in Self.worlds {
            let run = DriverRun(settings)
            _ = try? await run.run(until: 25, script: world)
            merge(run)
        }
        for (kind, settings, world) in Self.persistent { merge(try await Self.pausedRun(in: kind, settings, world)) }
        // States left within the action that entered them (the result is awaited inline) only get its result;
        // a paused node never runs a promotion or a follow, so their results cannot reach `paused`.
        let inline: Set<MonitorState.Kind> = [.validating, .promoting, .following]
        for kind in MonitorState.Kind.allCases where kind != .primary {
            var expected = Transitions.expectedEvents(in: kind)
            if inline.contains(kind) { expected = expected.filter(\.isActionResult) }
            if kind == .paused { expected.subtract([.promotion, .follow]) }
            let missing = expected.subtracting(received[kind] ?? [])
            #expect(missing.isEmpty, "\(kind) never received \(missing.map(\.rawValue).sorted())")
        }
    }

    /// Worlds that, together, drive every state through every event its rows expect.
    static var worlds: [(FailoverSettings, (Double, FakeClusterPort) -> Void)] { [
        (fast, { now, port in port.upstreamUp = !(2...4).contains(now) }),
        (fast, { now, port in port.upstreamUp = now < 1 || now > 9; port.gatherFailure = now < 6 ? "unreadable" : nil
                  port.charlieReachable = false }),
        (with { $0.standbyDisconnectOnFailover = true; $0.hasValidationCommand = true },
         { now, port in port.upstreamUp = now < 1; port.siblingsStopped = now > 3; port.validationAllows = now > 10 }),
        (with { $0.standbyDisconnectOnFailover = true; $0.hasValidationCommand = true },
         { now, port in port.upstreamUp = now < 1 || now > 12; port.validationAllows = false }),
        (fast, { now, port in port.upstreamUp = now < 1; port.charlieLSN = 0x6000; if now > 4 { port.primaries = [3] } }),
        (fast, { now, port in port.upstreamUp = now < 1; port.charlieLSN = 0x6000 }),
        (fast, { now, port in port.upstreamUp = now < 1 || now > 15; port.charlieReachable = false
                  if now > 10 { port.primaries = [4] } }),
        (with { $0.degradedMonitoringTimeout = 8 }, { now, port in port.upstreamUp = now < 1; port.promoteSucceeds = false }),
        (with { $0.degradedMonitoringTimeout = 8 }, { now, port in port.upstreamUp = now < 1; port.charlieLSN = 0x6000
                  if now > 4 { port.primaries = [3] }; port.followSucceeds = false }),
        (with { $0.mode = .manual }, { now, port in port.upstreamUp = now < 1; if now > 5 { port.primaries = [4] } }),
        (fast, { now, port in port.upstreamUp = now < 1 || now > 3; port.local?.paused = (2...6).contains(now) }),
        (fast, { now, port in port.upstreamUp = now < 3; port.local?.paused = (2...8).contains(now) }),
    ] }
}
