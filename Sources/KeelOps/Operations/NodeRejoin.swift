import Foundation
import KeelCore
import KeelPostgres

/// What `NodeRejoin.run()` did (or, with `--dry-run`, would do).
public struct RejoinResult: Sendable, Equatable {
    /// The primary this node now streams from.
    public var primaryNodeID: Int
    /// Whether pg_rewind ran (with `--dry-run`: would run).
    public var rewound: Bool
    /// True when nothing was changed (`--dry-run`).
    public var dryRun: Bool
}

/// `keel node rejoin -d CONNINFO [--force-rewind] [--config-files LIST] [-W/--no-wait] [--dry-run]`: turns
/// this **stopped** node — typically a former primary — into a standby of the current primary, as repmgr
/// 5.3's `do_node_rejoin`.
///
/// The current primary is found from the node given with `-d` (any reachable node of the cluster). Checks:
/// the server is stopped (exit 1 otherwise); its control file (`pg_controldata`) has the primary's system
/// identifier (24) and a clean shutdown (24 unless `--force-rewind`, whose pg_rewind recovers it first); its
/// timeline and last position against the primary's timeline history (`TimelineCheck`): a node with WAL
/// past the primary's fork point has diverged and is refused (exit 24, hint `--force-rewind`); with
/// `--force-rewind` pg_rewind runs (`--source-server` = the primary), which needs `wal_log_hints = on` or
/// data checksums on this node (24 with a clear message otherwise). `--config-files` keeps those files of
/// the data directory across pg_rewind. Then `standby.signal`, `primary_conninfo` and `primary_slot_name`
/// are written, the slot is created on the primary (`use_replication_slots`), the server is started
/// (`service_start_command` or pg_ctl; exit 4 when that fails) and the operation waits up to
/// `node_rejoin_timeout` seconds for it to stream from the primary (24 on timeout; `--no-wait` skips the
/// wait); on the primary this node's record becomes an active standby of it; event `node_rejoin`.
public struct NodeRejoin {
    /// The command's own options.
    public struct Options: Sendable, Equatable {
        /// `--force-rewind`: run pg_rewind when this node's timeline diverged from the primary's.
        public var forceRewind: Bool
        /// `--config-files`: files to keep across pg_rewind (relative to the data directory, or absolute).
        public var configFiles: [String]
        /// `-W/--no-wait`: do not wait for the node to stream.
        public var noWait: Bool

        /// Makes the options.
        public init(forceRewind: Bool = false, configFiles: [String] = [], noWait: Bool = false) {
            self.forceRewind = forceRewind
            self.configFiles = configFiles
            self.noWait = noWait
        }
    }

    /// The node's configuration, logger and options (`dryRun`, `-d` in `remote`).
    public let context: OpsContext
    /// The command's options.
    public let options: Options

    /// Makes the operation for the node configured in `context`.
    public init(context: OpsContext, options: Options) {
        self.context = context
        self.options = options
    }

    /// Runs the checks and the rejoin. Throws `KeelError`: 1 without `-d`, with a running server or missing
    /// `--config-files`; 6 when the given node or the primary is unreachable; 13 when pg_controldata or
    /// pg_rewind is missing; 24 (ERR_REJOIN_FAIL) for a foreign or diverged node (without `--force-rewind`),
    /// an unclean shutdown, a data directory pg_rewind cannot work on, a failed pg_rewind, or no streaming
    /// within `node_rejoin_timeout`; 4 when the server does not start.
    public func run() async throws -> RejoinResult {
        let config = context.config
        let log = context.logger
        let me = config.nodeLabel
        guard !context.remote.isEmpty else {
            throw KeelError(.badConfig, "no connection to the current primary given",
                            hint: "use -d/--dbname with the conninfo of a node of the cluster (e.g. the primary)")
        }
        let dataDirectory = DataDirectory(config.dataDirectory)
        if let pid = dataDirectory.runningPostmasterPID {
            throw KeelError(.badConfig, "PostgreSQL is running in data directory \"\(config.dataDirectory)\" (PID \(pid))",
                            hint: "NODE REJOIN works on a stopped node: stop it first with \"keel node service --action=stop\"")
        }
        let keeper = ConfigFileKeeper(dataDirectory: config.dataDirectory, files: options.configFiles, nodeID: config.nodeID)
        if !keeper.missing.isEmpty {
            throw KeelError(.badConfig, "file(s) given with --config-files not found: \(keeper.missing.map(keeper.path).joined(separator: ", "))")
        }
        let control = try await ControlDataReader.read(dataDirectory: config.dataDirectory, pgBindir: config.pgBindir)
        let clean = control.state.isCleanShutdown
        if !clean {
            guard options.forceRewind else {
                throw KeelError(.rejoinFailed, "\(me) was not shut down cleanly (database cluster state: \"\(control.state.rawValue)\")",
                                hint: "start and stop the server cleanly first, or use --force-rewind (pg_rewind recovers it)")
            }
            log.warning("\(me) was not shut down cleanly (\(control.state.rawValue)); pg_rewind will run crash recovery first")
        }

        // The current primary, found from the given node.
        let sourceConninfo = try context.remote.conninfo(defaultsFrom: config.conninfo)
        let source = try context.connect(sourceConninfo, what: "node given with -d")
        let (primary, found) = try context.connectPrimary(via: source)
        let primaryInfo = try context.query { try ServerInfo.read(primary) }
        guard !primaryInfo.isInRecovery, let primaryRecord = found, primaryRecord.nodeID != config.nodeID else {
            throw KeelError(.rejoinFailed, "unable to determine the current primary from the node given with -d",
                            detail: found?.nodeID == config.nodeID ? "the metadata names this node as the primary" : "no registered primary answers as one",
                            hint: "give the conninfo of the current primary with -d")
        }
        let primaryLabel = primaryRecord.nodeLabel
        log.info("current primary is \(primaryLabel)")
        guard control.systemIdentifier == primaryInfo.systemIdentifier else {
            throw KeelError(.rejoinFailed, "\(me) is not part of the primary's replication cluster",
                            detail: "this node's system identifier is \(control.systemIdentifier ?? "?"), \(primaryLabel) has \(primaryInfo.systemIdentifier)")
        }

        // Timelines: can this node stream from the primary as it is?
        let replication = try context.connect(
            ReplicationProbe.replicationConninfo(primaryRecord.conninfo, replicationUser: context.replicationUser),
            what: "\(primaryLabel) (replication connection)")
        let identity = try context.query { try ReplicationProbe.identifySystem(replication) }
        let localTimeline = control.timeline ?? 0
        var verdict: TimelineCheck? = nil
        if clean, let position = control.cleanEndPosition {
            let history = identity.timeline > localTimeline ? ReplicationProbe.timelineHistory(replication, timeline: identity.timeline) : nil
            verdict = TimelineCheck.evaluate(localTimeline: localTimeline, localLSN: position, targetTimeline: identity.timeline,
                                             targetLSN: identity.lsn, targetHistory: history)
        }
        let needsRewind = verdict?.isCompatible != true
        if needsRewind {
            let why = verdict?.explanation.replacingOccurrences(of: "follow target", with: "primary")
                ?? "this node's end of WAL is unknown after an unclean shutdown"
            guard options.forceRewind else {
                throw KeelError(.rejoinFailed, "\(me) cannot attach to \(primaryLabel): its timeline has diverged",
                                detail: why,
                                hint: "use --force-rewind to rewind it onto the primary's timeline with pg_rewind (or clone it again)")
            }
            log.notice("\(me) has diverged from \(primaryLabel): \(why)")
            guard control.rewindable else {
                throw KeelError(.rejoinFailed, "pg_rewind cannot be used on \(me)",
                                detail: "pg_rewind needs \"wal_log_hints = on\" or data checksums; this data directory has wal_log_hints \(control.fields["wal_log_hints setting"] ?? "off") and data page checksum version \(control.fields["Data page checksum version"] ?? "0")",
                                hint: "set wal_log_hints = on (then start and stop the server) before the node diverges, or clone it again with \"keel standby clone --force\"")
            }
        } else {
            log.info("timeline check passed: this node is on timeline \(localTimeline) and can stream from \(primaryLabel) (timeline \(identity.timeline))")
        }
        let binaries = PostgresBinaries(bindir: config.pgBindir, majorVersion: primaryInfo.versionNumber / 10000)
        let rewindProgram = needsRewind ? try binaries.path("pg_rewind") : ""
        let rewindArguments = ["-D", config.dataDirectory, "--source-server=\(CommandLinePassword.split(primaryRecord.conninfo).conninfo)"]

        // Replication slot on the primary.
        let slotName = NodeRecord.slotName(for: config.nodeID)
        var slotExists = false
        if config.useReplicationSlots {
            let slot = try context.query {
                try primary.queryRow("SELECT active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1", [slotName])
            }
            if slot?.bool("active") == true {
                throw KeelError(.rejoinFailed, "replication slot \"\(slotName)\" is active on \(primaryLabel)",
                                hint: "another server with node ID \(config.nodeID) streams from it")
            }
            slotExists = slot != nil
        }
        let primaryConninfo = StandbyClone.primaryConninfo(upstream: primaryRecord.conninfo, config: config, replicationUser: context.replicationUser)
        var settings: [(name: String, value: String)] = [("primary_conninfo", primaryConninfo)]
        if config.useReplicationSlots { settings.append(("primary_slot_name", slotName)) }

        if context.dryRun {
            log.info("prerequisites for executing NODE REJOIN are met")
            if needsRewind {
                if !keeper.files.isEmpty { log.info("would keep \(keeper.files.map(keeper.path).joined(separator: ", ")) across pg_rewind") }
                log.info("would execute: \(([rewindProgram] + rewindArguments).map { StandbyClone.displayQuoted($0) }.joined(separator: " "))")
            }
            log.info("would write standby.signal and primary_conninfo = '\(Conninfo.masked(primaryConninfo))'")
            if config.useReplicationSlots, !slotExists { log.info("would create replication slot \"\(slotName)\" on \(primaryLabel)") }
            let startCommand = try LocalService(context: context).commandLine("start")
            log.info("would start the server with: \(startCommand)")
            log.info("would record \(me) as a standby of \(primaryLabel)")
            return RejoinResult(primaryNodeID: primaryRecord.nodeID, rewound: needsRewind, dryRun: true)
        }

        if needsRewind {
            // pg_rewind reads the source's timeline from its control file, which a just-promoted primary
            // updates only at its first checkpoint: without one, pg_rewind can find "no rewind required"
            // and leave the node on the old timeline (PostgreSQL's pg_rewind documentation).
            log.info("requesting a checkpoint on \(primaryLabel) before pg_rewind")
            _ = try? primary.query("CHECKPOINT")
            // pg_rewind's crash recovery runs a single-user server, which refuses standby mode: a signal
            // file left by an earlier attempt would make it fail. The rejoin writes it again afterwards.
            for signal in ["standby.signal", "recovery.signal"] {
                try? FileManager.default.removeItem(atPath: config.dataDirectory + "/" + signal)
            }
            try keeper.save()
            log.notice("executing pg_rewind")
            log.debug("executing: \(([rewindProgram] + rewindArguments).map { StandbyClone.displayQuoted($0) }.joined(separator: " "))")
            let result = try await ProcessRunner.run(rewindProgram, rewindArguments, environment: CommandLinePassword.environment(for: primaryRecord.conninfo).merging(["LC_ALL": "C"]) { $1 }, timeout: 3600)
            try keeper.restore()
            guard result.succeeded else {
                throw KeelError(.rejoinFailed, "pg_rewind failed (exit status \(result.status))",
                                detail: (result.stderr + result.stdout).trimmingCharacters(in: .whitespacesAndNewlines),
                                hint: "the data directory may be unusable now; clone the node again with \"keel standby clone --force\"")
            }
            log.notice("pg_rewind complete")
        }
        do {
            try dataDirectory.writeStandbyConfiguration(settings)
        } catch {
            throw KeelError(.rejoinFailed, "unable to write the standby configuration in \"\(config.dataDirectory)\"", detail: "\(error)")
        }
        if config.useReplicationSlots, !slotExists {
            do {
                try primary.query("SELECT pg_catalog.pg_create_physical_replication_slot($1)", [slotName])
            } catch {
                throw KeelError(.rejoinFailed, "unable to create replication slot \"\(slotName)\" on \(primaryLabel)", detail: error.description)
            }
            log.info("replication slot \"\(slotName)\" created on \(primaryLabel)")
        }
        try await LocalService(context: context).run("start", failure: .noRestart)

        if options.noWait {
            log.notice("not waiting for \(me) to stream from \(primaryLabel) (--no-wait)")
        } else {
            let timeout = config.int("node_rejoin_timeout")
            log.notice("waiting up to \(timeout) seconds (parameter \"node_rejoin_timeout\") for \(me) to stream from \(primaryLabel)")
            let attached = try await waitForStreaming(primary: primary, timeout: timeout)
            guard attached else {
                let details = "\(me) did not start streaming from \(primaryLabel) within \(timeout) seconds (node_rejoin_timeout)"
                await EventWriter(context: context).record(.nodeRejoin, successful: false, details: details, on: primary, primary: primaryRecord)
                throw KeelError(.rejoinFailed, "NODE REJOIN failed", detail: details, hint: "check the PostgreSQL log of this node")
            }
        }
        let recorded = try context.query { try MetadataStore(connection: primary).markFollowing(nodeID: config.nodeID, upstreamNodeID: primaryRecord.nodeID) }
        if !recorded { log.warning("\(me) has no record on the primary; register it with \"keel standby register\"") }
        let details = "\(config.nodeLabel) is now attached to \(primaryRecord.nodeLabel)\(needsRewind ? " (rewound with pg_rewind)" : "")"
        await EventWriter(context: context).record(.nodeRejoin, details: details, on: primary, primary: primaryRecord)
        log.notice("NODE REJOIN successful", metadata: ["detail": "\(details)"])
        return RejoinResult(primaryNodeID: primaryRecord.nodeID, rewound: needsRewind, dryRun: false)
    }

    /// Polls the primary's `pg_stat_replication` every 200 ms for this node (`application_name` =
    /// `node_name`) streaming, for up to `timeout` seconds.
    private func waitForStreaming(primary: Connection, timeout: Int) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(timeout))
        while true {
            if let row = try? primary.queryRow("SELECT count(*)::int AS n FROM pg_catalog.pg_stat_replication WHERE application_name = $1 AND state = 'streaming'",
                                              [context.config.nodeName]), row.int("n") ?? 0 > 0 {
                return true
            }
            if clock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
