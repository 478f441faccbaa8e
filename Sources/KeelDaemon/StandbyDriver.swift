import KeelCore

/// keeld's standby loop around `FailoverMachine`: the observer (what each state's rows expect, asked of a
/// `ClusterPort`) and the effector (each `MonitorAction` carried out, each result or failure fed back as
/// an event with a row of its own). It decides nothing itself, sleeps never (`StandbyMonitor` sleeps until
/// `nextDeadline` and calls `tick`), and reads time only from `clock`, so tests drive it with a fake port
/// and a fake clock.
final class StandbyDriver {
    /// Why `tick` handed control back.
    enum Outcome: Equatable {
        /// Keep going: sleep until `nextDeadline` (or a wake-up) and tick again.
        case running
        /// The local server did not answer: reconnect, then tick again.
        case localUnreachable
        /// The local server left recovery (promoted here or by hand): the primary monitor takes over.
        case leftRecovery
    }

    private(set) var machine: FailoverMachine
    private let port: ClusterPort
    private let facts: FactsStore
    private let clock: () -> Double
    /// When the upstream is checked next.
    private(set) var nextCheck: Double
    /// The pending timer (`scheduleTimer`, `waitForPrimary`).
    private(set) var timerAt: Double?
    /// When the state's other observations (a primary appearing, the siblings' WAL receivers) are made next.
    private(set) var nextLook: Double
    private var paused: Bool
    /// Called with the state and each event fed to the machine (tests: which events each state received).
    var onEvent: ((MonitorState, MonitorEvent) -> Void)?

    /// A driver for `machine`, starting now; `paused` is the pause flag the machine started with.
    init(machine: FailoverMachine, port: ClusterPort, facts: FactsStore, paused: Bool, clock: @escaping () -> Double) {
        self.machine = machine
        self.port = port
        self.facts = facts
        self.clock = clock
        self.paused = paused
        nextCheck = clock()
        nextLook = clock()
    }

    /// When something is due next: the check, the timer, or the state's observations.
    var nextDeadline: Double {
        min(nextCheck, timerAt ?? .infinity, looks ? nextLook : .infinity)
    }

    /// Seconds between looks for a primary or at the siblings' WAL receivers.
    private var lookInterval: Double { min(1, machine.settings.monitorInterval) }

    /// True when the state expects an observation other than the upstream check and the timer.
    private var looks: Bool {
        let expected = Transitions.expectedEvents(in: machine.state.kind)
        return expected.contains(.primaryAppeared) || expected.contains(.siblingsDisconnected)
    }

    /// At start: restores what the persisted facts say this keeld left undone (a WAL receiver it stopped
    /// before a crash or a stop). Facts of another node (a file copied with the data directory) are dropped.
    func resume() {
        guard let stored = facts.load() else { return }
        guard stored.nodeID == machine.settings.nodeID else {
            port.log(.warning, "ignoring keeld facts recorded for node \(stored.nodeID) (this is node \(machine.settings.nodeID))")
            facts.save(DaemonFacts(nodeID: stored.nodeID))
            return
        }
        guard let saved = stored.stoppedWALReceiverConninfo else { return }
        guard let current = port.currentPrimaryConninfo() else {
            port.log(.error, "unable to read primary_conninfo: the WAL receiver stopped before keeld restarted is restored at the next start")
            return
        }
        if current.isEmpty {
            guard port.setPrimaryConninfo(saved) else {
                port.log(.error, "unable to restore the WAL receiver stopped before keeld restarted; will try again at the next start")
                return
            }
            port.log(.notice, "WAL receiver restored: keeld had stopped it for an election (standby_disconnect_on_failover) "
                     + "and was restarted before starting it again")
        }
        facts.save(DaemonFacts(nodeID: stored.nodeID))
    }

    /// One pass: reload the settings, read the local server and the pause flag, make the observations the
    /// state expects that are due, feed each to the machine and carry out its actions.
    func tick(woken: Bool) async throws -> Outcome {
        let settings = port.settings
        if settings != machine.settings {
            machine = machine.reconfigured(with: settings)
            port.log(.notice, "failover settings reloaded (failover=\(settings.mode.rawValue), priority=\(settings.priority))")
        }
        guard let local = port.localState() else { return .localUnreachable }
        guard local.inRecovery else { return .leftRecovery }
        if local.paused != paused {
            paused = local.paused
            try await handle(.pauseChanged(now: clock(), paused: local.paused))
        }
        try Task.checkCancellation()
        try await look()
        try Task.checkCancellation()
        if let at = timerAt, clock() >= at {
            timerAt = nil
            try await handle(.timer(now: clock()))
        }
        // A wake-up from the upstream watcher means its connection just closed: check now. The machine
        // counts it as an attempt only when reconnect_interval has passed since the last one.
        try Task.checkCancellation()
        if clock() >= nextCheck || woken {
            // The attempt counts from when it started: a check that ends at its deadline does not push the
            // next attempt back by that deadline.
            let now = clock()
            let reachable = port.checkUpstream()
            if reachable { port.afterHealthyCheck(paused: paused) }
            nextCheck = now + machine.settings.monitorInterval
            try await handle(.upstreamCheck(now: now, reachable: reachable))
        }
        if case .primary = machine.state { return .leftRecovery }
        return .running
    }

    /// The observations other than the upstream check that the state's rows expect, when due.
    private func look() async throws {
        guard looks, clock() >= nextLook else { return }
        nextLook = clock() + lookInterval
        switch machine.state {
        case .waitingForPrimary(let candidate, _):
            if let id = port.primary(among: [candidate], excluding: [machine.settings.nodeID]) {
                try await handle(.primaryAppeared(now: clock(), nodeID: id))
            }
        case .degraded:
            var excluding: Set<Int> = [machine.settings.nodeID]
            if let upstream = machine.upstreamNodeID { excluding.insert(upstream) }
            if let id = port.primary(among: nil, excluding: excluding) {
                try await handle(.primaryAppeared(now: clock(), nodeID: id))
            }
        case .disconnectingSiblings:
            if port.siblingsReceiversStopped() { try await handle(.siblingsDisconnected(now: clock())) }
        default:
            break
        }
    }

    /// Feeds `event` to the machine and carries out the actions.
    func handle(_ event: MonitorEvent) async throws {
        onEvent?(machine.state, event)
        try await perform(machine.handle(event))
    }

    private func perform(_ actions: [MonitorAction]) async throws {
        var queue = actions
        while !queue.isEmpty {
            let action = queue.removeFirst()
            if let event = try await execute(action) {
                onEvent?(machine.state, event)
                queue.append(contentsOf: machine.handle(event))
            }
        }
    }

    /// Carries out one action; returns the event that reports its result, when it has one.
    private func execute(_ action: MonitorAction) async throws -> MonitorEvent? {
        switch action {
        case .scheduleCheck(let at):
            nextCheck = at
        case .scheduleTimer(let at):
            timerAt = at
        case .gatherElection:
            switch port.gatherElection(now: clock()) {
            case .success(let input): return .election(input)
            case .failure(let failure): return .electionUnavailable(now: clock(), reason: failure.reason)
            }
        case .disconnectWALReceiver:
            disconnectWALReceiver()
        case .enableWALReceiver:
            enableWALReceiver()
        case .runValidation(let context):
            let (allowed, reason) = await port.runValidation(context)
            return .validation(now: clock(), allowed: allowed, reason: reason)
        case .promote(let term):
            if let refusal = await port.claimLeadership() {
                return .promotion(now: clock(), succeeded: false, detail: "not promoted: \(refusal)")
            }
            try Task.checkCancellation()
            let (ok, detail) = await port.promote(term: term)
            if ok { facts.save(DaemonFacts(nodeID: machine.settings.nodeID)) }
            return .promotion(now: clock(), succeeded: ok, detail: detail)
        case .waitForPrimary(_, let deadline):
            timerAt = deadline
            nextLook = clock()
        case .follow(let primaryID):
            let (ok, detail) = await port.follow(primaryID)
            if ok { facts.save(DaemonFacts(nodeID: machine.settings.nodeID)) }
            return .follow(now: clock(), succeeded: ok, primaryID: primaryID, detail: detail)
        case .notify(let event, let success, let details):
            port.notify(event, success: success, details: details)
        case .log(let level, let message):
            port.log(level, message)
        case .exitDaemon(let reason):
            throw KeelError(.monitoringTimeout, reason)
        }
        return nil
    }

    /// `standby_disconnect_on_failover`: remember `primary_conninfo` on disk first, then clear it (the WAL
    /// receiver stops), so that a keeld stopped or crashed before the election ends restores it at start.
    private func disconnectWALReceiver() {
        nextLook = clock()
        guard let saved = port.currentPrimaryConninfo(), !saved.isEmpty else {
            port.log(.error, "unable to read primary_conninfo: the WAL receiver is left running")
            return
        }
        guard facts.save(DaemonFacts(nodeID: machine.settings.nodeID, stoppedWALReceiverConninfo: saved)) else {
            port.log(.error, "unable to persist primary_conninfo: the WAL receiver is left running")
            return
        }
        if port.setPrimaryConninfo("") {
            port.log(.notice, "WAL receiver disconnected (standby_disconnect_on_failover)")
        } else {
            port.log(.error, "unable to stop the WAL receiver (standby_disconnect_on_failover)")
        }
    }

    /// Puts back the `primary_conninfo` that `disconnectWALReceiver` cleared, unless a follow replaced it.
    private func enableWALReceiver() {
        guard let saved = facts.load()?.stoppedWALReceiverConninfo else { return }
        guard let current = port.currentPrimaryConninfo() else {
            port.log(.error, "unable to read primary_conninfo: the WAL receiver is started again at keeld's next start")
            return
        }
        if current.isEmpty {
            guard port.setPrimaryConninfo(saved) else {
                port.log(.error, "unable to start the WAL receiver again; keeld retries at its next start")
                return
            }
            port.log(.notice, "WAL receiver enabled again")
        }
        facts.save(DaemonFacts(nodeID: machine.settings.nodeID))
    }
}
