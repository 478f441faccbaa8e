#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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

/// `keel node rejoin -d CONNINFO [--force-rewind[=PATH]] [--config-files LIST] [--config-archive-dir DIR]
/// [-W/--no-wait] [--dry-run]`: turns this **stopped** node — typically a former primary — into a standby
/// of the current primary, as repmgr 5.3's `do_node_rejoin`.
///
/// The current primary is found from the node given with `-d` (any reachable node of the cluster). Checks:
/// the server is stopped (exit 1 otherwise); its control file (`pg_controldata`) has the primary's system
/// identifier (24) and a clean shutdown (24 unless `--force-rewind`, whose pg_rewind recovers it first); its
/// timeline and last position against the primary's timeline history (`TimelineCheck`): a node with WAL
/// past the primary's fork point has diverged and is refused (exit 24, hint `--force-rewind`); with
/// `--force-rewind` pg_rewind runs (`--source-server` = the primary; `--config-file` when
/// `config_directory` puts postgresql.conf outside the data directory), which needs `wal_log_hints = on`
/// or data checksums on this node (24 with a clear message otherwise). `--config-files` keeps those files
/// across pg_rewind (copies in `--config-archive-dir`). The checks decide a plan (`RejoinStep.plan`):
/// pg_rewind, `standby.signal` with `primary_conninfo` and `primary_slot_name`, the slot on the primary
/// (`use_replication_slots`), the server start (`service_start_command` or pg_ctl; exit 4 when that
/// fails), the wait of up to `node_rejoin_timeout` seconds for streaming (24 on timeout; `--no-wait`
/// skips it), the record on the primary and the event `node_rejoin`. `--dry-run` prints that plan.
public struct NodeRejoin {
    /// The command's own options.
    public struct Options: Sendable, Equatable {
        /// `--force-rewind`: run pg_rewind when this node's timeline diverged from the primary's.
        public var forceRewind: Bool
        /// `--force-rewind=PATH`: the pg_rewind program to run (default: `pg_rewind` of `pg_bindir`).
        public var rewindPath: String?
        /// `--config-files`: files to keep across pg_rewind (relative to the data directory, or absolute).
        public var configFiles: [String]
        /// `--config-archive-dir`: where the copies of `--config-files` wait (default: the temporary directory).
        public var configArchiveDirectory: String?
        /// `-W/--no-wait`: do not wait for the node to stream.
        public var noWait: Bool

        /// Makes the options.
        public init(forceRewind: Bool = false, rewindPath: String? = nil, configFiles: [String] = [],
                    configArchiveDirectory: String? = nil, noWait: Bool = false) {
            self.forceRewind = forceRewind || rewindPath != nil
            self.rewindPath = rewindPath
            self.configFiles = configFiles
            self.configArchiveDirectory = configArchiveDirectory
            self.noWait = noWait
        }
    }

    /// What the checks found; the plan is built from it.
    struct Facts {
        var control: ControlData
        var primary: Connection
        var primaryRecord: NodeRecord
        var primaryInfo: ServerInfo
        var needsRewind: Bool
        var rewindCommand: [String]
        var slotExists: Bool
        var keeper: ConfigFileKeeper
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

    /// Runs the checks, then prints (`--dry-run`) or executes the plan. Throws `KeelError`: 1 without `-d`,
    /// with a running server or missing `--config-files`; 6 when the given node or the primary is
    /// unreachable; 13 when pg_controldata or pg_rewind is missing; 24 (ERR_REJOIN_FAIL) for a foreign or
    /// diverged node (without `--force-rewind`), an unclean shutdown, a data directory pg_rewind cannot work
    /// on, a failed pg_rewind, or no streaming within `node_rejoin_timeout`; 4 when the server does not start.
    public func run() async throws -> RejoinResult {
        let facts = try await check()
        let plan = try makePlan(facts)
        let result = RejoinResult(primaryNodeID: facts.primaryRecord.nodeID, rewound: facts.needsRewind, dryRun: context.dryRun)
        if context.dryRun {
            plan.describe(to: context.logger)
            return result
        }
        try await plan.execute(logger: context.logger)
        return result
    }

    /// Every check, in order; nothing is changed.
    func check() async throws -> Facts {
        let config = context.config
        guard !context.remote.isEmpty else {
            throw KeelError(.badConfig, "no connection to the current primary given",
                            hint: "use -d/--dbname with the conninfo of a node of the cluster (e.g. the primary)")
        }
        if let pid = DataDirectory(config.dataDirectory).runningPostmasterPID {
            throw KeelError(.badConfig, "PostgreSQL is running in data directory \"\(config.dataDirectory)\" (PID \(pid))",
                            hint: "NODE REJOIN works on a stopped node: stop it first with \"keel node service --action=stop\"")
        }
        let keeper = ConfigFileKeeper(dataDirectory: config.dataDirectory, files: options.configFiles, nodeID: config.nodeID,
                                      archiveBase: options.configArchiveDirectory)
        if !keeper.missing.isEmpty {
            throw KeelError(.badConfig, "file(s) given with --config-files not found: \(keeper.missing.map(keeper.path).joined(separator: ", "))")
        }
        let control = try await ControlDataReader.read(dataDirectory: config.dataDirectory, pgBindir: config.pgBindir)
        if !control.state.isCleanShutdown {
            guard options.forceRewind else {
                throw KeelError(.rejoinFailed, "\(config.nodeLabel) was not shut down cleanly (database cluster state: \"\(control.state.rawValue)\")",
                                hint: "start and stop the server cleanly first, or use --force-rewind (pg_rewind recovers it)")
            }
            context.logger.warning("\(config.nodeLabel) was not shut down cleanly (\(control.state.rawValue)); pg_rewind will run crash recovery first")
        }
        let (primary, primaryRecord, primaryInfo) = try findPrimary(control: control)
        let needsRewind = try checkTimeline(control: control, primaryRecord: primaryRecord)
        let rewindCommand = needsRewind ? try rewindCommandLine(primaryRecord: primaryRecord, primaryInfo: primaryInfo) : []
        let slotExists = try checkSlot(primary: primary, primaryRecord: primaryRecord)
        return Facts(control: control, primary: primary, primaryRecord: primaryRecord, primaryInfo: primaryInfo,
                     needsRewind: needsRewind, rewindCommand: rewindCommand, slotExists: slotExists, keeper: keeper)
    }

    /// The current primary, found from the node given with `-d`, with the same system identifier as this node.
    private func findPrimary(control: ControlData) throws -> (Connection, NodeRecord, ServerInfo) {
        let config = context.config
        let sourceConninfo = try context.remote.conninfo(defaultsFrom: config.conninfo)
        let source = try context.connect(sourceConninfo, what: "node given with -d")
        let (primary, found) = try context.connectPrimary(via: source)
        let primaryInfo = try context.query { try ServerInfo.read(primary) }
        guard !primaryInfo.isInRecovery, let primaryRecord = found, primaryRecord.nodeID != config.nodeID else {
            throw KeelError(.rejoinFailed, "unable to determine the current primary from the node given with -d",
                            detail: found?.nodeID == config.nodeID ? "the metadata names this node as the primary" : "no registered primary answers as one",
                            hint: "give the conninfo of the current primary with -d")
        }
        context.logger.info("current primary is \(primaryRecord.nodeLabel)")
        guard control.systemIdentifier == primaryInfo.systemIdentifier else {
            throw KeelError(.rejoinFailed, "\(config.nodeLabel) is not part of the primary's replication cluster",
                            detail: "this node's system identifier is \(control.systemIdentifier ?? "?"), \(primaryRecord.nodeLabel) has \(primaryInfo.systemIdentifier)")
        }
        return (primary, primaryRecord, primaryInfo)
    }

    /// Whether this node must be rewound to stream from the primary: its timeline and end of WAL against the
    /// primary's history. Throws 24 when it must and `--force-rewind` was not given or cannot work.
    private func checkTimeline(control: ControlData, primaryRecord: NodeRecord) throws -> Bool {
        let me = context.config.nodeLabel
        let primaryLabel = primaryRecord.nodeLabel
        let replication = try context.connect(
            ReplicationProbe.replicationConninfo(primaryRecord.conninfo, replicationUser: context.replicationUser),
            what: "\(primaryLabel) (replication connection)")
        let identity = try context.query { try ReplicationProbe.identifySystem(replication) }
        let localTimeline = control.timeline ?? 0
        var verdict: TimelineCheck? = nil
        if control.state.isCleanShutdown, let position = control.cleanEndPosition {
            let history = identity.timeline > localTimeline ? ReplicationProbe.timelineHistory(replication, timeline: identity.timeline) : nil
            verdict = TimelineCheck.evaluate(localTimeline: localTimeline, localLSN: position, targetTimeline: identity.timeline,
                                             targetLSN: identity.lsn, targetHistory: history)
        }
        guard verdict?.isCompatible != true else {
            context.logger.info("timeline check passed: this node is on timeline \(localTimeline) and can stream from \(primaryLabel) (timeline \(identity.timeline))")
            return false
        }
        let why = verdict?.explanation.replacing("follow target", with: "primary")
            ?? "this node's end of WAL is unknown after an unclean shutdown"
        guard options.forceRewind else {
            throw KeelError(.rejoinFailed, "\(me) cannot attach to \(primaryLabel): its timeline has diverged",
                            detail: why,
                            hint: "use --force-rewind to rewind it onto the primary's timeline with pg_rewind (or clone it again)")
        }
        context.logger.notice("\(me) has diverged from \(primaryLabel): \(why)")
        guard control.rewindable else {
            throw KeelError(.rejoinFailed, "pg_rewind cannot be used on \(me)",
                            detail: "pg_rewind needs \"wal_log_hints = on\" or data checksums; this data directory has wal_log_hints \(control.fields["wal_log_hints setting"] ?? "off") and data page checksum version \(control.fields["Data page checksum version"] ?? "0")",
                            hint: "set wal_log_hints = on (then start and stop the server) before the node diverges, or clone it again with \"keel standby clone --force\"")
        }
        return true
    }

    /// pg_rewind's command line: the program (`--force-rewind=PATH`, else `pg_bindir`), `-D`, the source
    /// and, when `config_directory` holds postgresql.conf, `--config-file` (pg_rewind's crash recovery and
    /// `-R`-less restart need it; PostgreSQL 15+). Throws 13 when pg_rewind is missing, 1 when the
    /// configuration file is.
    private func rewindCommandLine(primaryRecord: NodeRecord, primaryInfo: ServerInfo) throws -> [String] {
        let config = context.config
        let major = primaryInfo.versionNumber / 10000
        let program = try options.rewindPath ?? PostgresBinaries(bindir: config.pgBindir, majorVersion: major).path("pg_rewind")
        // No password on the command line: `rewind` passes it in PGPASSWORD.
        var arguments = [program, "-D", config.dataDirectory, "--source-server=\(CommandLinePassword.split(primaryRecord.conninfo).conninfo)"]
        if let file = Self.externalConfigFile(config) {
            guard FileManager.default.fileExists(atPath: file) else {
                throw KeelError(.badConfig, "configuration file \"\(file)\" not found",
                                detail: "config_directory is \"\(config.configDirectory)\"")
            }
            if major >= 15 {
                arguments.append("--config-file=\(file)")
            } else {
                context.logger.warning("pg_rewind of PostgreSQL \(major) cannot be given \"\(file)\" (--config-file needs PostgreSQL 15)")
            }
        }
        return arguments
    }

    /// `<config_directory>/postgresql.conf` when `config_directory` is set and is not the data directory.
    static func externalConfigFile(_ config: KeelConfig) -> String? {
        let directory = config.configDirectory
        guard !directory.isEmpty, directory != config.dataDirectory else { return nil }
        return PathString.join(directory, "postgresql.conf")
    }

    /// Whether this node's slot already exists on the primary (`use_replication_slots`); throws 24 when it
    /// is in use by another server.
    private func checkSlot(primary: Connection, primaryRecord: NodeRecord) throws -> Bool {
        let config = context.config
        guard config.useReplicationSlots else { return false }
        let slotName = NodeRecord.slotName(for: config.nodeID)
        let active = try context.query { try ReplicationSlot.isActive(slotName, on: primary) }
        if active == true {
            throw KeelError(.rejoinFailed, "replication slot \"\(slotName)\" is active on \(primaryRecord.nodeLabel)",
                            hint: "another server with node ID \(config.nodeID) streams from it")
        }
        return active != nil
    }
}
