#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

/// What `StandbyFollow.run()` did (or, with `--dry-run`, would do).
public struct FollowResult: Sendable, Equatable {
    /// The node this standby now streams from (the follow target).
    public var upstreamNodeID: Int
    /// Its `node_name`.
    public var upstreamNodeName: String
    /// The upstream registered for this node before the follow (`nil` when there was none).
    public var formerUpstreamNodeID: Int?
    /// The follow target's timeline when it was checked.
    public var upstreamTimeline: Int
    /// Seconds from the configuration change to the confirmed streaming connection (0 with `--dry-run`).
    public var elapsedSeconds: Double
    /// True when nothing was changed (`--dry-run`).
    public var dryRun: Bool

    /// Makes a result.
    public init(upstreamNodeID: Int, upstreamNodeName: String, formerUpstreamNodeID: Int?, upstreamTimeline: Int,
                elapsedSeconds: Double, dryRun: Bool = false) {
        self.upstreamNodeID = upstreamNodeID
        self.upstreamNodeName = upstreamNodeName
        self.formerUpstreamNodeID = formerUpstreamNodeID
        self.upstreamTimeline = upstreamTimeline
        self.elapsedSeconds = elapsedSeconds
        self.dryRun = dryRun
    }
}

/// `keel standby follow [--upstream-node-id N] [-w/-W/--wait] [--dry-run]`: points this running standby at
/// a new upstream (normally the new primary after a failover), as repmgr 5.3's `do_standby_follow`.
///
/// The target is `--upstream-node-id` (repmgrd always passes `%n`), else the registered node that is
/// reachable and not in recovery (with `--wait`: waited for up to `primary_follow_timeout` seconds).
/// Checks: this node is reachable (6), in recovery and registered (1); the target is registered, not this
/// node and not a witness (1), reachable also over a replication connection (6), with the same system
/// identifier (23); and this standby has no WAL past the target's fork point — its timeline and position
/// (`IDENTIFY_SYSTEM` on a local replication connection) against the target's timeline, position and
/// history (`TIMELINE_HISTORY`), repmgr's `check_node_can_attach` (23, hint `keel node rejoin --force-rewind`).
/// Actions: with `use_replication_slots`, slot `repmgr_slot_<node_id>` is created on the target when
/// missing; `primary_conninfo` (the target's conninfo with the replication user, `application_name` =
/// `node_name`, no `dbname`) and `primary_slot_name` are set with `ALTER SYSTEM`, then
/// `pg_reload_conf()` (PostgreSQL 13+; a restart — `service_restart_command` or `pg_ctl restart` — when
/// `standby_follow_restart` is on or the server is older; exit 4 when that fails); the operation waits up to
/// `standby_follow_timeout` seconds until `pg_stat_wal_receiver` streams from the target's host and port
/// (23 on timeout); this node's slot is dropped on the former upstream when that is reachable and is not
/// the target; on the primary, this node's record gets `upstream_node_id` = the target; event
/// `standby_follow` with `%p %c %a` = the followed node. `--dry-run` runs the checks and changes nothing.
/// The daemon runs this same operation in-process.
public struct StandbyFollow {
    /// The command's own options.
    public struct Options: Sendable, Equatable {
        /// `--upstream-node-id`: the node to follow; `nil` = the running primary.
        public var upstreamNodeID: Int?
        /// `-w/--wait`: wait up to `primary_follow_timeout` seconds for the target to become reachable.
        public var wait: Bool

        /// Makes the options.
        public init(upstreamNodeID: Int? = nil, wait: Bool = false) {
            self.upstreamNodeID = upstreamNodeID
            self.wait = wait
        }
    }

    /// The node's configuration, logger and options (`dryRun`).
    public let context: OpsContext
    /// The command's options.
    public let options: Options

    /// Makes the operation for the standby configured in `context`.
    public init(context: OpsContext, options: Options) {
        self.context = context
        self.options = options
    }

    /// What the checks found; the plan is built from it.
    struct Facts {
        var local: Connection
        var info: ServerInfo
        var nodes: [NodeRecord]
        var formerUpstreamID: Int?
        var targetRecord: NodeRecord
        var target: Connection
        var targetInRecovery: Bool
        var targetTimeline: Int
        var slotExists: Bool
        var restart: Bool
    }

    /// Runs the checks, then prints (`--dry-run`) or executes the plan. Returns what was done. Throws
    /// `KeelError`: 6 when this node, the target or (without `--upstream-node-id`) any primary is
    /// unreachable; 1 when this node is not a registered standby or the target is unknown, this node, or a
    /// witness; 23 (ERR_FOLLOW_FAIL) for a different system identifier, a diverged timeline, a failed slot
    /// creation or a standby that did not connect within `standby_follow_timeout` (also when the server is
    /// not running after a restart); 4 when a configured restart fails; 7 when a statement fails.
    public func run() async throws -> FollowResult {
        let facts = try await check()
        let progress = FollowProgress()
        let plan = try makePlan(facts, progress: progress)
        if context.dryRun {
            plan.describe(to: context.logger)
        } else {
            try await plan.execute(logger: context.logger)
        }
        return FollowResult(upstreamNodeID: facts.targetRecord.nodeID, upstreamNodeName: facts.targetRecord.nodeName,
                            formerUpstreamNodeID: facts.formerUpstreamID, upstreamTimeline: facts.targetTimeline,
                            elapsedSeconds: progress.elapsed, dryRun: context.dryRun)
    }

    /// Every check, in order; nothing is changed.
    func check() async throws -> Facts {
        let config = context.config
        let local = try context.connectLocal()
        let info = try context.query { try ServerInfo.read(local) }
        guard info.isInRecovery else {
            throw KeelError(.badConfig, "this node is not a standby",
                            detail: "\(config.nodeLabel) is not in recovery",
                            hint: "a node running as a primary must be rejoined with \"keel node rejoin\"")
        }
        let localStore = MetadataStore(connection: local)
        guard try context.query({ try Migrator(connection: local).schemaExists() }),
              let localRecord = try context.query({ try localStore.node(id: config.nodeID) }) else {
            throw KeelError(.badConfig, "\(config.nodeLabel) is not registered",
                            hint: "register this standby first with \"keel standby register\"")
        }
        let nodes = try context.query { try localStore.nodes() }
        let (targetRecord, target) = try await findTarget(nodes: nodes)
        context.logger.info("follow target is \(targetRecord.nodeLabel)")
        let targetTimeline = try checkTimeline(info: info, targetRecord: targetRecord)
        let targetInRecovery = try context.query { try target.queryRow("SELECT pg_catalog.pg_is_in_recovery() AS r")?.bool("r") } ?? false
        var slotExists = false
        if config.useReplicationSlots {
            slotExists = try context.query { try ReplicationSlot.isActive(NodeRecord.slotName(for: config.nodeID), on: target) } != nil
        }
        let restart = config.bool("standby_follow_restart") || info.versionNumber < 130000
        return Facts(local: local, info: info, nodes: nodes, formerUpstreamID: localRecord.upstreamNodeID, targetRecord: targetRecord,
                     target: target, targetInRecovery: targetInRecovery, targetTimeline: targetTimeline, slotExists: slotExists, restart: restart)
    }

    /// The target's identity, timeline and history over a replication connection against this standby's
    /// position: returns the target's timeline; throws 23 for another cluster or a diverged timeline.
    private func checkTimeline(info: ServerInfo, targetRecord: NodeRecord) throws -> Int {
        let targetLabel = targetRecord.nodeLabel
        let targetReplication = try context.connect(
            ReplicationProbe.replicationConninfo(targetRecord.conninfo, replicationUser: context.replicationUser),
            what: "follow target \(targetLabel) (replication connection)")
        let targetIdentity = try context.query { try ReplicationProbe.identifySystem(targetReplication) }
        guard targetIdentity.systemIdentifier == info.systemIdentifier else {
            throw KeelError(.followFailed, "this node is not part of the follow target node's replication cluster",
                            detail: "this node's system identifier is \(info.systemIdentifier), follow target \(targetLabel) has \(targetIdentity.systemIdentifier)")
        }
        let (localTimeline, localLSN) = localPosition(info: info)
        let history = targetIdentity.timeline > localTimeline
            ? ReplicationProbe.timelineHistory(targetReplication, timeline: targetIdentity.timeline) : nil
        let verdict = TimelineCheck.evaluate(localTimeline: localTimeline, localLSN: localLSN, targetTimeline: targetIdentity.timeline,
                                             targetLSN: targetIdentity.lsn, targetHistory: history)
        guard verdict.isCompatible else {
            throw KeelError(.followFailed, "this node cannot attach to follow target \(targetLabel)",
                            detail: verdict.explanation,
                            hint: "rewind this node onto the follow target's timeline with \"keel node rejoin --force-rewind\" (or clone it again)")
        }
        context.logger.info("timeline check passed: this node is at \(localLSN) on timeline \(localTimeline), follow target at \(targetIdentity.lsn) on timeline \(targetIdentity.timeline)")
        return targetIdentity.timeline
    }

    /// The follow target's record and a connection to it: `--upstream-node-id`, else the running primary.
    /// With `--wait`, retries every second for up to `primary_follow_timeout` seconds.
    private func findTarget(nodes: [NodeRecord]) async throws -> (NodeRecord, Connection) {
        let config = context.config
        let timeout = config.int("primary_follow_timeout")
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(timeout))
        if let id = options.upstreamNodeID {
            guard id != config.nodeID else {
                throw KeelError(.badConfig, "--upstream-node-id \(id) is this node", hint: "give the ID of the node to follow")
            }
            guard let record = nodes.first(where: { $0.nodeID == id }) else {
                throw KeelError(.badConfig, "upstream node \(id) is not registered")
            }
            guard record.type != .witness else {
                throw KeelError(.badConfig, "node \"\(record.nodeName)\" (ID: \(id)) is a witness and cannot be followed")
            }
            let what = "follow target node \"\(record.nodeName)\" (ID: \(id))"
            while true {
                do {
                    return (record, try context.connect(record.conninfo, what: what))
                } catch let error as KeelError {
                    guard options.wait, clock.now < deadline else { throw error }
                    context.logger.info("waiting for \(what) to become reachable (primary_follow_timeout: \(timeout) seconds)")
                    try await Task.sleep(for: .seconds(1))
                }
            }
        }
        var announced = false
        while true {
            if let primary = ReplicationProbe.runningPrimaries(among: nodes, excluding: config.nodeID).first {
                return (primary.record, primary.connection)
            }
            guard options.wait, clock.now < deadline else {
                throw KeelError(.dbConnection, "unable to find a reachable primary to follow",
                                detail: "no registered node is reachable and running as a primary",
                                hint: options.wait ? "waited \(timeout) seconds (primary_follow_timeout)"
                                                   : "use --upstream-node-id N, or -w/--wait to wait up to primary_follow_timeout for a primary")
            }
            if !announced {
                context.logger.info("waiting up to \(timeout) seconds (parameter \"primary_follow_timeout\") for a primary to appear")
                announced = true
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// This standby's timeline and WAL position: `IDENTIFY_SYSTEM` on a local replication connection (the
    /// replayed timeline and the furthest of received and replayed WAL), else the SQL view of `info`.
    private func localPosition(info: ServerInfo) -> (Int, LSN) {
        let conninfo = ReplicationProbe.replicationConninfo(context.config.conninfo, replicationUser: context.replicationUser)
        if let replication = try? Connection(conninfo: conninfo), let identity = try? ReplicationProbe.identifySystem(replication) {
            let lsn = max(identity.lsn, info.lsn ?? .zero, info.replayLSN ?? .zero)
            return (identity.timeline, lsn)
        }
        context.logger.warning("unable to open a replication connection to this node; using pg_stat_wal_receiver and the last checkpoint")
        return (info.timeline, max(info.lsn ?? .zero, info.replayLSN ?? .zero))
    }

    /// A connection to the primary for the metadata update: the target itself when it is a primary, else the
    /// primary registered in the target's metadata; `nil` (with a warning) when that cannot be reached.
    func primaryConnection(target: Connection, targetInRecovery: Bool, targetLabel: String) throws -> Connection? {
        guard targetInRecovery else { return target }
        do {
            return try context.connectPrimary(via: target).0
        } catch let error as KeelError {
            context.logger.warning("unable to connect to the primary to record the new upstream: \(error.message)")
            return nil
        }
    }

    /// Drops `slotName` on the former upstream when it is reachable, waiting up to 5 seconds for its
    /// walsender to release the slot. Problems are warnings: the follow itself succeeded.
    func dropFormerSlot(_ slotName: String, formerID: Int, nodes: [NodeRecord]) async {
        let log = context.logger
        guard let former = nodes.first(where: { $0.nodeID == formerID }) else { return }
        let label = "former upstream node \"\(former.nodeName)\" (ID: \(formerID))"
        guard let conn = try? Connection.open(former.conninfo, deadlines: context.deadlines) else {
            log.warning("unable to connect to \(label): replication slot \"\(slotName)\" was not dropped there",
                        metadata: ["hint": "when that node is running again, drop the slot there with: SELECT pg_catalog.pg_drop_replication_slot('\(slotName)'); until then it holds back WAL (\"keel node check --slots\" on that node shows it)"])
            return
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(5))
        while true {
            do {
                guard let active = try ReplicationSlot.isActive(slotName, on: conn) else { return }
                if !active {
                    try conn.query("SELECT pg_catalog.pg_drop_replication_slot($1)", [slotName])
                    log.info("replication slot \"\(slotName)\" dropped on \(label)")
                    return
                }
            } catch {
                log.warning("unable to drop replication slot \"\(slotName)\" on \(label): \(error)")
                return
            }
            if clock.now >= deadline {
                log.warning("replication slot \"\(slotName)\" is still active on \(label) and was not dropped")
                return
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// `ALTER SYSTEM SET name = 'value'` with the value quoted by the server (`quote_literal`): ALTER SYSTEM
    /// takes no bind parameters and cannot run inside a transaction or function.
    func alterSystem(_ connection: Connection, _ name: String, _ value: String) throws(PostgresError) {
        let literal = try connection.queryRow("SELECT pg_catalog.quote_literal($1) AS q", [value])?.string("q") ?? "''"
        try connection.query("ALTER SYSTEM SET \(name) = \(literal)")
    }
}
