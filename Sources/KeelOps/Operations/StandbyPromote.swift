#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelDCS
import KeelPostgres

/// What `StandbyPromote.run()` did (or, with `--dry-run`, found).
public struct PromoteResult: Sendable, Equatable {
    /// The promoted node (this node).
    public var nodeID: Int
    /// The node's timeline after the promotion (with `--dry-run`: the timeline it replays now).
    public var timeline: Int
    /// `pg_current_wal_lsn()` right after the promotion (with `--dry-run`: the last replayed position).
    public var lsn: LSN?
    /// Seconds from the promote request to the confirmation that the node left recovery (0 with `--dry-run`).
    public var elapsedSeconds: Double
    /// The primaries whose records were marked inactive (normally the former primary; empty with `--dry-run`).
    public var formerPrimaryIDs: [Int]
    /// `repmgr.voting_term.term` after the increment (`nil` with `--dry-run` or when the table has no row).
    public var votingTerm: Int?
    /// True when nothing was done (`--dry-run`).
    public var dryRun: Bool
    /// With `--siblings-follow`: the siblings that could not be made to follow (their node IDs).
    public var siblingFailures: [Int] = []

    /// Makes a result.
    public init(nodeID: Int, timeline: Int, lsn: LSN?, elapsedSeconds: Double, formerPrimaryIDs: [Int] = [],
                votingTerm: Int? = nil, dryRun: Bool = false) {
        self.nodeID = nodeID
        self.timeline = timeline
        self.lsn = lsn
        self.elapsedSeconds = elapsedSeconds
        self.formerPrimaryIDs = formerPrimaryIDs
        self.votingTerm = votingTerm
        self.dryRun = dryRun
    }
}

/// `keel standby promote [--dry-run]`: promotes this standby to primary, as repmgr 5.3's
/// `do_standby_promote`.
///
/// Checks: this node is reachable (else exit 6), in recovery (else exit 8, "this node is not a standby")
/// and registered (else exit 1); no other registered primary or standby — read from this node's replicated
/// metadata, each probed live — is running as a primary (else exit 8, naming it); WAL replay is not paused
/// (else exit 8). Then `service_promote_command` when configured, else `pg_promote(wait := false)`, and
/// `pg_is_in_recovery()` is polled every 50 ms (at most every `promote_check_interval` seconds) for up to `promote_check_timeout`
/// seconds (exit 8 on timeout, with a failed `standby_promote` notification). Then, on the new primary's own
/// metadata: this node's record becomes `type = 'primary'`, `upstream_node_id = NULL`, active; every other
/// active primary's record becomes inactive; `repmgr.voting_term.term` is incremented; event
/// `standby_promote`. `--dry-run` runs the checks, prints what would be done and changes nothing.
///
/// `--siblings-follow`: the other standbys (and the witness) attached to the former primary are made to
/// follow this node once it is promoted (`SiblingsFollow`: remote `keel standby follow --upstream-node-id`
/// on each); checked first: enough free walsenders and slots here for them (exit 8 unless `--force`).
/// A sibling that does not follow is a warning, as with repmgr. Never use it inside `promote_command`:
/// keeld's siblings follow on their own. The daemon runs this same operation in-process (without it).
public struct StandbyPromote {
    /// The command's own options.
    public struct Options: Sendable, Equatable {
        /// `--siblings-follow`.
        public var siblingsFollow: Bool
        /// `-R/--remote-user`: ssh user for the siblings' commands.
        public var remoteUser: String?

        /// Makes the options.
        public init(siblingsFollow: Bool = false, remoteUser: String? = nil) {
            self.siblingsFollow = siblingsFollow
            self.remoteUser = remoteUser
        }
    }

    /// The node's configuration, logger and options (`dryRun`, `force`).
    public let context: OpsContext
    /// The command's options.
    public let options: Options

    /// Makes the operation for the node configured in `context`.
    public init(context: OpsContext, options: Options = Options()) {
        self.context = context
        self.options = options
    }

    /// Runs the checks and the promotion. Returns what was done. Throws `KeelError`: 6 when this node is
    /// unreachable; 8 (ERR_PROMOTION_FAIL) when it is not a standby, another primary is running, WAL replay
    /// is paused, the promote request fails, or the promotion is not confirmed within
    /// `promote_check_timeout`; 1 when this node is not registered; 7 when a metadata statement fails.
    public func run() async throws -> PromoteResult {
        let config = context.config
        let log = context.logger
        let me = config.nodeLabel
        let local = try context.connectLocal()
        let info = try context.query { try ServerInfo.read(local) }
        guard info.isInRecovery else {
            throw KeelError(.promotionFailed, "this node is not a standby",
                            detail: "\(me) is not in recovery; STANDBY PROMOTE can only be executed on a standby node")
        }
        let store = MetadataStore(connection: local)
        guard try context.query({ try Migrator(connection: local).schemaExists() }) else {
            throw KeelError(.badConfig, "no metadata found on this node", hint: "register this standby first with \"keel standby register\"")
        }
        guard let record = try context.query({ try store.node(id: config.nodeID) }) else {
            throw KeelError(.badConfig, "\(me) is not registered", hint: "register this standby first with \"keel standby register\"")
        }
        guard record.type != .witness else {
            throw KeelError(.badConfig, "\(me) is registered as a witness and cannot be promoted")
        }
        let nodes = try context.query { try store.nodes() }
        let running = ReplicationProbe.runningPrimaries(among: nodes, excluding: config.nodeID, deadlines: context.deadlines)
        if let other = running.first {
            throw KeelError(.promotionFailed, "this replication cluster already has an active primary server",
                            detail: running.map { "node \"\($0.record.nodeName)\" (ID: \($0.record.nodeID)) is running as a primary at \"\(Conninfo.masked($0.record.conninfo))\"" }
                                .joined(separator: "\n"),
                            hint: "stop node \"\(other.record.nodeName)\" before promoting, or make this standby follow it with \"keel standby follow\"")
        }
        log.info("no other node is running as a primary")
        let paused = try context.query {
            try local.queryRow("""
                SELECT pg_catalog.pg_is_wal_replay_paused() AS paused,
                       pg_catalog.pg_last_wal_replay_lsn() AS replay_lsn, pg_catalog.pg_last_wal_receive_lsn() AS receive_lsn
                """)
        }
        if paused?.bool("paused") == true {
            throw KeelError(.promotionFailed, "WAL replay is paused on this node",
                            detail: "replay paused at \(paused?.lsn("replay_lsn")?.description ?? "?"); last WAL received is \(paused?.lsn("receive_lsn")?.description ?? "?")",
                            hint: "execute \"SELECT pg_catalog.pg_wal_replay_resume()\" to resume WAL replay")
        }
        let formerPrimaryID = nodes.first { $0.type == .primary && $0.active && $0.nodeID != config.nodeID }?.nodeID ?? record.upstreamNodeID
        let siblings = options.siblingsFollow ? SiblingsFollow.siblings(of: formerPrimaryID, excluding: config.nodeID, in: nodes) : []
        try checkCapacity(for: siblings.filter { $0.type == .standby }.count, info: info)
        let promoteCommand = config.string("service_promote_command")
        let timeout = config.int("promote_check_timeout")
        let interval = config.int("promote_check_interval")
        if context.dryRun {
            log.info("prerequisites for promoting \(me) are met")
            log.info(promoteCommand.isEmpty ? "would promote the server with \"SELECT pg_catalog.pg_promote(wait := false)\""
                                            : "would promote the server with service_promote_command: \(promoteCommand)")
            log.info("would wait up to \(timeout) seconds (promote_check_timeout), checking every \(interval) seconds (promote_check_interval)")
            let former = nodes.filter { $0.type == .primary && $0.active && $0.nodeID != config.nodeID }
            log.info("would register \(me) as the primary\(former.isEmpty ? "" : ", mark " + former.map { "node \"\($0.nodeName)\" (ID: \($0.nodeID))" }.joined(separator: ", ") + " inactive") and increment the voting term")
            for sibling in siblings {
                log.info("would make sibling \(sibling.nodeLabel) follow with: \(SiblingsFollow(context: context, remoteUser: options.remoteUser).display(sibling, newPrimary: record))")
            }
            return PromoteResult(nodeID: config.nodeID, timeline: info.timeline, lsn: info.replayLSN, elapsedSeconds: 0, dryRun: true)
        }

        log.notice("promoting standby to primary")
        let clock = ContinuousClock()
        let started = clock.now
        // logical_slot_failover: the synced logical slots this standby holds, named in the event once promoted.
        let syncedSlots = config.logicalSlotFailover ? LogicalSlots.failoverSlots(local) : nil
        if promoteCommand.isEmpty {
            log.info("executing: SELECT pg_catalog.pg_promote(wait := false)")
            let sent = try context.query { try local.queryRow("SELECT pg_catalog.pg_promote(wait := false) AS sent")?.bool("sent") }
            guard sent == true else {
                throw KeelError(.promotionFailed, "unable to promote \(me): pg_promote() returned false",
                                hint: "check the PostgreSQL log of this node")
            }
        } else if case .lua = Hook(.service("promote"), in: config) {
            let outcome = await context.hooks.run(.service("promote"), context: context,
                                                  luaContext: HookContext.service(config: config, action: "promote"),
                                                  shellTimeout: Double(timeout), luaBudget: Double(timeout))
            guard outcome.succeeded else {
                throw KeelError(.promotionFailed, "service_promote_command failed", detail: outcome.reason,
                                hint: "hook: \(promoteCommand)")
            }
        } else {
            log.info("executing: \(promoteCommand)")
            let result = try await ProcessRunner.shell(promoteCommand, timeout: Double(timeout))
            guard result.succeeded else {
                throw KeelError(.promotionFailed, "service_promote_command failed with exit status \(result.status)",
                                detail: (result.stderr + result.stdout).trimmingWhitespace(),
                                hint: "command: \(promoteCommand)")
            }
        }
        log.notice("waiting up to \(timeout) seconds (parameter \"promote_check_timeout\") for promotion to complete")
        var connection: Connection? = local
        var promoted = false
        let deadline = started.advanced(by: .seconds(timeout))
        while true {
            if connection == nil || connection?.isOK == false { connection = try? Connection(conninfo: config.conninfo) }
            if let row = try? connection?.queryRow("SELECT pg_catalog.pg_is_in_recovery() AS r"), row.bool("r") == false {
                promoted = true
                break
            }
            if clock.now >= deadline { break }
            // Report the promotion as soon as the server accepts writes: poll finely, never slower than
            // promote_check_interval.
            try await Task.sleep(for: .milliseconds(min(interval * 1000, 50)))
        }
        let elapsed = Self.seconds(clock.now - started)
        guard promoted, let primary = connection else {
            let details = "promotion of \(me) could not be confirmed within \(timeout) seconds (promote_check_timeout)"
            await EventWriter(context: context).record(.standbyPromote, successful: false, details: details, on: nil)
            throw KeelError(.promotionFailed, "STANDBY PROMOTE failed, this node is still a standby",
                            detail: details, hint: "check the PostgreSQL log of this node")
        }
        let after = try context.query { try ServerInfo.read(primary) }
        let newStore = MetadataStore(connection: primary)
        let demoted = try context.query { try newStore.markPromoted(nodeID: config.nodeID) }
        let term = try context.query { try newStore.incrementVotingTerm() }
        for id in demoted {
            let name = nodes.first { $0.nodeID == id }?.nodeName ?? "?"
            log.info("node \"\(name)\" (ID: \(id)) is now marked inactive")
        }
        var details = "server \"\(config.nodeName)\" (ID: \(config.nodeID)) was successfully promoted to primary"
        if config.logicalSlotFailover {
            // The standbys' physical slots do not exist here yet: a stale synchronized_standby_slots copied from
            // the former primary would hold every logical walsender back.
            LogicalSlots.keepSynchronizedStandbySlots(primary, config: config, nodes: (try? newStore.nodes()) ?? nodes, logger: log)
            details += "; " + (LogicalSlotFailover.movedSlots(syncedSlots ?? [:]) ?? "no synced logical slots moved")
        }
        await EventWriter(context: context).record(.standbyPromote, details: details, on: primary)
        log.notice("STANDBY PROMOTE successful", metadata: ["detail": "\(details)"])
        takeLeaderKey()
        log.info("new timeline \(after.timeline), current LSN \(after.lsn?.description ?? "?"), promotion took \(String(cFormat: "%.1f", elapsed)) seconds")
        var result = PromoteResult(nodeID: config.nodeID, timeline: after.timeline, lsn: after.lsn, elapsedSeconds: elapsed,
                                   formerPrimaryIDs: demoted, votingTerm: term)
        if !siblings.isEmpty {
            let failures = await SiblingsFollow(context: context, remoteUser: options.remoteUser).run(siblings, newPrimary: record)
            result.siblingFailures = failures.map(\.node.nodeID)
            if failures.isEmpty {
                log.notice("all \(siblings.count) sibling node(s) now follow the new primary")
            } else {
                log.warning("\(failures.count) of \(siblings.count) sibling node(s) could not be made to follow the new primary",
                            metadata: ["hint": "run on each:\n\(failures.map { "  " + $0.command }.joined(separator: "\n"))"])
            }
        }
        return result
    }

    /// With a consensus store (`dcs`): the leader key moves to this node now, not after the former holder's lease.
    private func takeLeaderKey() {
        guard let settings = DCSSettings(config: context.config) else { return }
        do {
            let sentence = try LeaderHandover.takeOver(settings, nodeID: context.config.nodeID)
            context.logger.notice("\(sentence)")
        } catch {
            context.logger.warning("unable to take the leader key in the consensus store: \(error)", metadata: [
                "hint": "keeld on this node takes it once the former holder's lease expired, and fences this node if another node holds it",
            ])
        }
    }

    /// `--siblings-follow`: this node must have free walsenders (and slots, with `use_replication_slots`) for
    /// the `count` standbys that will attach to it. Throws `KeelError` 8 unless `--force` (then a warning).
    private func checkCapacity(for count: Int, info: ServerInfo) throws {
        guard count > 0 else { return }
        var problems: [String] = []
        let freeSenders = info.maxWalSenders - info.walSendersInUse
        if freeSenders < count { problems.append("\(freeSenders) free walsenders (max_wal_senders = \(info.maxWalSenders)) for \(count) sibling(s)") }
        let freeSlots = info.maxReplicationSlots - info.replicationSlotsInUse
        if context.config.useReplicationSlots, freeSlots < count {
            problems.append("\(freeSlots) free replication slots (max_replication_slots = \(info.maxReplicationSlots)) for \(count) sibling(s)")
        }
        guard !problems.isEmpty else { return }
        if context.force {
            context.logger.warning("insufficient capacity for the siblings on this node: \(problems.joined(separator: "; ")) (continuing: --force)")
            return
        }
        throw KeelError(.promotionFailed, "insufficient capacity on this node for the siblings to follow it",
                        detail: problems.joined(separator: "\n"), hint: "increase the settings, or use -F/--force")
    }

    /// A `Duration` in seconds.
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
