import Foundation
import KeelCore
import KeelOps
import KeelPostgres

/// keeld on a standby: the effect side of the failover state machine. It observes (upstream checks by
/// `connection_check_type`, the pause flag, the cluster's state for an election), feeds each observation
/// to `FailoverMachine`, and carries out the actions it returns (promote, follow, validation, events).
/// All decisions are the machine's; this type only does I/O.
final class StandbyMonitor {
    private let runtime: DaemonRuntime
    private let heartbeat: Heartbeat
    private let waker = Waker()
    private lazy var watcher = UpstreamWatcher(waker: waker)
    private var machine: FailoverMachine
    private var local: Connection
    private var nextCheck: Double
    private var timerAt: Double?
    private var waitingFor: Int?
    private var upstreamLastSeen: Double
    private var upstreamOverride: Int?
    private var queryConnection: Connection?
    private var primaryConnection: Connection?
    private var paused = false
    private var nextStatusLog: Double
    private var savedPrimaryConninfo: String?
    /// The most advanced WAL position among the reachable nodes of the last election (for the validation hook).
    private var electionReferenceLSN: LSN?

    init(runtime: DaemonRuntime, heartbeat: Heartbeat, local: Connection) {
        self.runtime = runtime
        self.heartbeat = heartbeat
        self.local = local
        let store = MetadataStore(connection: local)
        let paused = (try? store.isPaused(nodeID: runtime.config.nodeID)) ?? false
        self.paused = paused
        let nodes = (try? store.nodes()) ?? []
        let upstream = nodes.first { $0.nodeID == runtime.config.nodeID }?.upstreamNodeID
        machine = FailoverMachine(settings: FailoverSettings(config: runtime.config), initial: paused ? .paused : .monitoring,
                                  upstreamNodeID: upstream, nodeNames: Dictionary(nodes.map { ($0.nodeID, $0.nodeName) }, uniquingKeysWith: { a, _ in a }))
        nextCheck = runtime.now
        upstreamLastSeen = runtime.now
        nextStatusLog = runtime.now + Double(runtime.config.int("log_status_interval"))
    }

    /// Runs until this node has been promoted (returns) or keeld stops (throws).
    func run() async throws {
        watcher.start()
        defer { watcher.stop() }
        let (me, upstream) = records()
        runtime.logger.notice("monitoring connection to upstream node \"\(upstream?.nodeName ?? "?")\" (ID: \(upstream?.nodeID ?? 0)) from \"\(me?.nodeName ?? runtime.config.nodeName)\"")
        watcher.watch(upstream?.conninfo)
        while true {
            let deadline = min(nextCheck, timerAt ?? .infinity, waitingFor == nil ? .infinity : runtime.now + 1)
            runtime.loopRan(sleepingFor: deadline - runtime.now)
            let woken = try await waker.sleep(deadline - runtime.now)
            // A reloaded configuration (SIGHUP) applies to the failover rules at once.
            let settings = FailoverSettings(config: runtime.config)
            if settings != machine.settings {
                machine = machine.reconfigured(with: settings)
                runtime.logger.notice("failover settings reloaded (failover=\(settings.mode.rawValue), priority=\(settings.priority))")
            }
            let now = runtime.now
            guard local.isOK, (try? local.query("SELECT 1")) != nil else {
                local = try await LocalConnection.reconnect(runtime: runtime)
                continue
            }
            if (try? ServerInfo.read(local))?.isInRecovery == false {
                runtime.logger.notice("local node is no longer in recovery: switching to primary monitoring")
                return
            }
            let isPaused = (try? MetadataStore(connection: local).isPaused(nodeID: runtime.config.nodeID)) ?? paused
            if isPaused != paused {
                paused = isPaused
                try await perform(machine.handle(.pauseChanged(now: now, paused: isPaused)))
            }
            if let candidate = waitingFor, let conn = try? Connection(conninfo: record(candidate)?.conninfo ?? ""),
               (try? ServerInfo.read(conn))?.isInRecovery == false {
                waitingFor = nil
                try await perform(machine.handle(.primaryAppeared(now: now, nodeID: candidate)))
            }
            if let at = timerAt, now >= at {
                timerAt = nil
                try await perform(machine.handle(.timer(now: now)))
            }
            // A wake-up from the watcher means the upstream connection just closed: check now.
            if now >= nextCheck || woken {
                let reachable = checkUpstream()
                if reachable { upstreamLastSeen = now; afterHealthyCheck() }
                nextCheck = now + Double(runtime.config.monitorIntervalSecs)
                try await perform(machine.handle(.upstreamCheck(now: now, reachable: reachable)))
            }
            if case .primary = machine.state { return }
            logStatus(now: now)
        }
    }

    // MARK: observing

    private func records() -> (me: NodeRecord?, upstream: NodeRecord?) {
        let nodes = (try? MetadataStore(connection: local).nodes()) ?? []
        let me = nodes.first { $0.nodeID == runtime.config.nodeID }
        let upstreamID = upstreamOverride ?? me?.upstreamNodeID ?? nodes.first { $0.type == .primary && $0.active }?.nodeID
        if let override = upstreamOverride, me?.upstreamNodeID == override { upstreamOverride = nil }
        return (me, nodes.first { $0.nodeID == upstreamID })
    }

    private func record(_ id: Int) -> NodeRecord? {
        try? MetadataStore(connection: local).node(id: id)
    }

    /// One health check of the upstream by `connection_check_type` (repmgr 5.3: ping = PQping,
    /// connection = a new connection, query = `connection_check_query` on a kept connection).
    private func checkUpstream() -> Bool {
        guard let upstream = records().upstream else { return false }
        watcher.watch(upstream.conninfo)
        switch runtime.config.connectionCheckType {
        case .ping:
            return Connection.ping(upstream.conninfo) == .ok
        case .connection:
            return (try? Connection(conninfo: upstream.conninfo)) != nil
        case .query:
            if queryConnection?.isOK != true { queryConnection = try? Connection(conninfo: upstream.conninfo) }
            guard let conn = queryConnection, (try? conn.query(runtime.config.string("connection_check_query"))) != nil else {
                queryConnection = nil
                return false
            }
            return true
        }
    }

    /// After a healthy check: heartbeat and `monitoring_history` through the primary.
    private func afterHealthyCheck() {
        guard let primary = primaryConnectionForWrites() else { return }
        heartbeat.beat(on: primary.1, state: paused ? "paused: standby" : "monitoring as standby", upstreamLastSeen: 0)
        guard runtime.config.bool("monitoring_history"),
              let info = try? ServerInfo.read(local),
              let primaryLSN = try? primary.1.queryRow("SELECT pg_catalog.pg_current_wal_lsn() AS lsn")?.lsn("lsn") else { return }
        let applyTime = try? local.queryRow("SELECT pg_catalog.pg_last_xact_replay_timestamp()::text AS t")?.string("t")
        try? MetadataStore(connection: primary.1).recordMonitoringHistory(
            primaryID: primary.0.nodeID, standbyID: runtime.config.nodeID, primaryLSN: primaryLSN,
            standbyLSN: info.lsn, replayLSN: info.replayLSN, lastApplyTime: applyTime ?? nil)
    }

    /// A cached connection to the registered primary (where heartbeats, history and events are written).
    private func primaryConnectionForWrites() -> (NodeRecord, Connection)? {
        let nodes = (try? MetadataStore(connection: local).nodes()) ?? []
        guard let primary = nodes.first(where: { $0.type == .primary && $0.active }) else { return nil }
        if primaryConnection?.isOK != true { primaryConnection = try? Connection(conninfo: primary.conninfo) }
        guard let conn = primaryConnection else { return nil }
        return (primary, conn)
    }

    private func gatherElection(now: Double) -> ElectionInput? {
        let store = MetadataStore(connection: local)
        guard let nodes = try? store.nodes(), let me = nodes.first(where: { $0.nodeID == runtime.config.nodeID }),
              let lost = records().upstream else { return nil }
        let others = nodes.filter { $0.nodeID != me.nodeID }
        // Probe every node at once: an unreachable one costs up to its connect_timeout.
        let results = ProbeResults(count: others.count)
        DispatchQueue.concurrentPerform(iterations: others.count) { i in
            results.set(i, NodeProbe.probe(others[i], among: nodes))
        }
        let all = results.values
        let mine = NodeProbe.probe(me, among: nodes)
        let view = { (p: NodeProbe) in p.peerView(lostPrimaryID: lost.nodeID, probes: all) }
        let term = ((try? store.votingTerm()) ?? nil) ?? 1
        electionReferenceLSN = ([mine] + all).filter { $0.reachable && $0.node.type != .witness }.compactMap(\.lastReceivedLSN).max()
        return ElectionInput(now: now, me: view(mine), lostPrimary: view(all.first { $0.node.nodeID == lost.nodeID } ?? NodeProbe(node: lost, reachable: false)),
                             peers: all.filter { $0.node.nodeID != lost.nodeID }.map(view), term: term)
    }

    // MARK: acting

    private func perform(_ actions: [MonitorAction]) async throws {
        var queue = actions
        while !queue.isEmpty {
            let action = queue.removeFirst()
            let now = runtime.now
            switch action {
            case .scheduleCheck(let at):
                nextCheck = at
            case .scheduleTimer(let at):
                timerAt = at
            case .gatherElection:
                guard let input = gatherElection(now: now) else {
                    runtime.logger.error("unable to read the cluster's metadata for the election")
                    timerAt = now + Double(runtime.config.monitorIntervalSecs)
                    continue
                }
                queue.append(contentsOf: machine.handle(.election(input)))
            case .disconnectWALReceiver:
                disconnectWALReceiver()
            case .enableWALReceiver:
                enableWALReceiver()
            case .runValidation(let context):
                let (allowed, reason) = await runValidation(context)
                queue.append(contentsOf: machine.handle(.validation(now: runtime.now, allowed: allowed, reason: reason)))
            case .promote(let term):
                let (ok, detail) = await promote(term: term)
                queue.append(contentsOf: machine.handle(.promotion(now: runtime.now, succeeded: ok, detail: detail)))
            case .waitForPrimary(let candidate, let deadline):
                waitingFor = candidate
                timerAt = deadline
            case .follow(let primaryID):
                waitingFor = nil
                let (ok, detail) = await follow(primaryID)
                if ok { upstreamOverride = primaryID; watcher.watch(record(primaryID)?.conninfo) }
                queue.append(contentsOf: machine.handle(.follow(now: runtime.now, succeeded: ok, primaryID: primaryID, detail: detail)))
            case .notify(let event, let success, let details):
                notify(event, success: success, details: details)
            case .log(let level, let message):
                log(level, message)
            case .exitDaemon(let reason):
                throw KeelError(.monitoringTimeout, reason)
            }
        }
    }

    private func log(_ level: LogLevel, _ message: String) {
        switch level {
        case .debug: runtime.logger.debug("\(message)")
        case .info: runtime.logger.info("\(message)")
        case .notice: runtime.logger.notice("\(message)")
        case .warning: runtime.logger.warning("\(message)")
        case .error: runtime.logger.error("\(message)")
        }
    }

    /// Events go to the primary of the moment: this node once promoted, else the registered primary when it answers.
    private func notify(_ event: EventName, success: Bool, details: String) {
        var connection: Connection?
        if (try? ServerInfo.read(local))?.isInRecovery == false {
            connection = local
        } else {
            let nodes = (try? MetadataStore(connection: local).nodes()) ?? []
            connection = PrimaryFinder.find(nodes.filter { $0.nodeID != runtime.config.nodeID })?.1
        }
        let former = records().upstream
        runtime.event(event, success: success, details: details, on: connection, primary: former)
    }

    /// `standby_disconnect_on_failover`: stop this standby's WAL receiver (PostgreSQL 13+: an empty
    /// `primary_conninfo` and a reload), so siblings compare LSNs that no longer move.
    private func disconnectWALReceiver() {
        savedPrimaryConninfo = try? local.queryRow("SELECT pg_catalog.current_setting('primary_conninfo') AS c")?.string("c")
        _ = try? local.query("ALTER SYSTEM SET primary_conninfo = ''")
        _ = try? local.query("SELECT pg_catalog.pg_reload_conf()")
        runtime.logger.notice("WAL receiver disconnected (standby_disconnect_on_failover)")
    }

    /// Puts back the `primary_conninfo` that `disconnectWALReceiver` cleared (unless a follow replaced it).
    private func enableWALReceiver() {
        guard let saved = savedPrimaryConninfo, !saved.isEmpty else { return }
        savedPrimaryConninfo = nil
        let current = try? local.queryRow("SELECT pg_catalog.current_setting('primary_conninfo') AS c")?.string("c")
        guard current == nil || current == "" else { return }
        _ = try? local.query("ALTER SYSTEM SET primary_conninfo = " + Self.literal(saved))
        _ = try? local.query("SELECT pg_catalog.pg_reload_conf()")
        runtime.logger.notice("WAL receiver enabled again")
    }

    /// A SQL string literal (ALTER SYSTEM takes no parameters).
    private static func literal(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// `failover_validation_command`: the shell form with `%n %a %v %u %t` (exit 0 allows the promotion),
    /// or a Lua function given the validation table (`true` allows; `false, "reason"`, an error or a
    /// timeout vetoes).
    private func runValidation(_ context: ValidationContext) async -> (Bool, String?) {
        let outcome = await runtime.hooks.run(.failoverValidation, context: runtime.opsContext(),
                                              luaContext: HookContext.validation(context, referenceLSN: electionReferenceLSN),
                                              shellTimeout: 60)
        return outcome.succeeded ? (true, nil) : (false, outcome.reason ?? "failover_validation_command refused")
    }

    /// `promote_command`, or Keel's own promote (`pg_promote()` and the metadata) when it is empty. A Lua
    /// `promote_command` returns `true` (or `false, "reason"`); Keel then waits for the server to leave
    /// recovery and records the promotion itself (`RoleBookkeeping.promoted`).
    private func promote(term: Int) async -> (Bool, String) {
        let config = runtime.config
        let started = runtime.now
        let hook = Hook(.promote, in: config)
        switch hook {
        case .none:
            do {
                _ = try await StandbyPromote(context: runtime.opsContext()).run()
            } catch {
                return (false, "promotion failed: \(error)")
            }
        case .shell:
            let outcome = await runtime.hooks.run(.promote, hook: hook, context: runtime.opsContext(), luaContext: [:],
                                                  shellTimeout: Double(config.int("promote_check_timeout")) + 30)
            guard outcome.succeeded else { return (false, outcome.reason ?? "promote_command failed") }
        case .lua:
            let former = records().upstream
            let timeout = Double(config.int("promote_check_timeout"))
            let outcome = await runtime.hooks.run(.promote, hook: hook, context: runtime.opsContext(),
                                                  luaContext: HookContext.promote(config: config, formerPrimaryID: former?.nodeID, term: term),
                                                  shellTimeout: timeout, luaBudget: timeout)
            guard outcome.succeeded else { return (false, outcome.reason ?? "promote_command failed") }
            guard let primary = await RoleBookkeeping.waitForPromotion(runtime: runtime, timeout: timeout) else {
                return (false, "\(hook) succeeded but the server is still in recovery after \(Int(timeout)) s (promote_check_timeout)")
            }
            local = primary
            RoleBookkeeping.promoted(runtime: runtime, on: primary, formerPrimary: former)
        }
        guard (try? ServerInfo.read(local))?.isInRecovery == false else {
            return (false, "the server is still in recovery after the promotion")
        }
        return (true, "promoted in \(Int((runtime.now - started) * 1000)) ms")
    }

    /// `follow_command` with `%n` = the new primary, or Keel's own follow when it is empty. A Lua
    /// `follow_command` gets the follow table and returns `true` (or `false, "reason"`); Keel then records
    /// the new upstream on the primary (`RoleBookkeeping.followed`).
    private func follow(_ primaryID: Int) async -> (Bool, String) {
        let config = runtime.config
        let hook = Hook(.follow, in: config)
        switch hook {
        case .none:
            do {
                _ = try await StandbyFollow(context: runtime.opsContext(), options: .init(upstreamNodeID: primaryID)).run()
                return (true, "following node \(primaryID)")
            } catch {
                return (false, "follow failed: \(error)")
            }
        case .shell:
            let outcome = await runtime.hooks.run(.follow, hook: hook, context: runtime.opsContext(),
                                                  luaContext: ["upstream_id": .integer(Int64(primaryID))],
                                                  shellTimeout: Double(config.int("standby_follow_timeout")) + 60)
            guard outcome.succeeded else { return (false, outcome.reason ?? "follow_command failed") }
        case .lua:
            let target = record(primaryID)
            let timeout = Double(config.int("standby_follow_timeout"))
            let context = HookContext.follow(config: config, upstreamID: primaryID, upstream: target,
                                             formerUpstreamID: records().me?.upstreamNodeID)
            let outcome = await runtime.hooks.run(.follow, hook: hook, context: runtime.opsContext(), luaContext: context,
                                                  shellTimeout: timeout, luaBudget: timeout)
            guard outcome.succeeded else { return (false, outcome.reason ?? "follow_command failed") }
            RoleBookkeeping.followed(runtime: runtime, upstream: target, upstreamID: primaryID)
        }
        return (true, "following node \(primaryID)")
    }

    private func logStatus(now: Double) {
        let interval = Double(runtime.config.int("log_status_interval"))
        guard interval > 0, now >= nextStatusLog else { return }
        nextStatusLog = now + interval
        let upstream = records().upstream
        runtime.logger.info("monitoring upstream node \"\(upstream?.nodeName ?? "?")\" (ID: \(upstream?.nodeID ?? 0)) in state \(machine.state)\(paused ? " (paused)" : "")")
    }
}

/// Results of the concurrent probes, one slot per node.
private final class ProbeResults: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [NodeProbe?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ probe: NodeProbe) { lock.withLock { slots[i] = probe } }
    var values: [NodeProbe] { lock.withLock { slots.compactMap { $0 } } }
}
