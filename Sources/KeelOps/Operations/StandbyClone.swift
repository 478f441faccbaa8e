#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

/// `keel standby clone -h HOST [-p PORT] [-U USER] [-d DB] [--upstream-node-id N] [-c|--fast-checkpoint]
/// [--dry-run] [--force] [--replication-conf-only] [--copy-external-config-files[=samepath|pgdata]]
/// [--recovery-min-apply-delay D] [--upstream-conninfo C] [--replication-user U] [--verify-backup]`: copies
/// the source node with `pg_basebackup -X stream` (tablespaces placed by `tablespace_mapping`) into
/// `data_directory` and writes PostgreSQL 12+ standby configuration (`standby.signal`, `primary_conninfo`
/// with `application_name` = `node_name`, `primary_slot_name` when `use_replication_slots`). Event
/// `standby_clone`. Source: repmgr 5.3 `do_standby_clone` and its dry-run checks.
///
/// Every check runs before anything changes: an occupied data directory or a non-empty target directory
/// of a tablespace is refused without `-F/--force` (the error names each); with `--force` their contents
/// are removed only once every check has passed. A non-empty tablespace directory that `tablespace_mapping`
/// does not map is refused even with `--force` (it may be the source's own, on this host).
public struct StandbyClone {
    /// Where `--copy-external-config-files` puts configuration files that live outside the source's data directory.
    public enum ConfigFileDestination: String, Sendable, Equatable {
        /// The same path as on the source.
        case samepath
        /// The new data directory.
        case pgdata
    }

    /// The command's own options.
    public struct Options: Sendable {
        /// `--upstream-node-id`: the node the standby will replicate from (default: the primary).
        public var upstreamNodeID: Int?
        /// `-c/--fast-checkpoint`.
        public var fastCheckpoint: Bool
        /// `-b/--pg_bindir`.
        public var pgBindir: String?
        /// `--replication-conf-only`: only write the standby configuration into the existing data directory.
        public var replicationConfOnly: Bool
        /// `--copy-external-config-files[=samepath|pgdata]`.
        public var copyExternalConfigFiles: ConfigFileDestination?
        /// `--recovery-min-apply-delay`: overrides the configuration's `recovery_min_apply_delay`.
        public var recoveryMinApplyDelay: String?
        /// `--upstream-conninfo`: `primary_conninfo` is built from it instead of the upstream's record.
        public var upstreamConninfo: String?
        /// `--replication-user`: overrides `replication_user`.
        public var replicationUser: String?
        /// `--verify-backup`: run pg_verifybackup on the copy.
        public var verifyBackup: Bool

        /// Makes the options.
        public init(upstreamNodeID: Int? = nil, fastCheckpoint: Bool = false, pgBindir: String? = nil, replicationConfOnly: Bool = false,
                    copyExternalConfigFiles: ConfigFileDestination? = nil, recoveryMinApplyDelay: String? = nil,
                    upstreamConninfo: String? = nil, replicationUser: String? = nil, verifyBackup: Bool = false) {
            self.upstreamNodeID = upstreamNodeID
            self.fastCheckpoint = fastCheckpoint
            self.pgBindir = pgBindir
            self.replicationConfOnly = replicationConfOnly
            self.copyExternalConfigFiles = copyExternalConfigFiles
            self.recoveryMinApplyDelay = recoveryMinApplyDelay
            self.upstreamConninfo = upstreamConninfo
            self.replicationUser = replicationUser
            self.verifyBackup = verifyBackup
        }
    }

    /// The node's configuration, logger and options (`dryRun`, `force`, `-h/-p/-U/-d` in `remote`).
    public let context: OpsContext
    /// The command's options.
    public let options: Options

    /// Makes the operation for the node configured in `context`.
    public init(context: OpsContext, options: Options) {
        self.context = context
        self.options = options
    }

    /// The replication user: `--replication-user`, else the context's.
    var replicationUser: String { options.replicationUser ?? context.replicationUser }

    /// Runs the checks, then prints (`--dry-run`) or executes the plan. Throws `KeelError`: 1 for a missing
    /// source, an occupied data directory or tablespace directory, 6 when the source is unreachable (also
    /// for replication connections), 14 when pg_basebackup (or pg_verifybackup) fails.
    public func run() async throws {
        let facts = try await check()
        let plan = try makePlan(facts)
        if context.dryRun {
            plan.describe(to: context.logger)
        } else {
            try await plan.execute(logger: context.logger)
        }
    }

    /// The upstream node's record: `--upstream-node-id`, else the active primary.
    func resolveUpstream(store: MetadataStore) throws -> NodeRecord {
        if let id = options.upstreamNodeID {
            guard let node = try context.query({ try store.node(id: id) }) else {
                throw KeelError(.badConfig, "upstream node \(id) is not registered")
            }
            guard node.type != .witness else { throw KeelError(.badConfig, "upstream node \(id) is a witness and cannot be an upstream") }
            return node
        }
        guard let primary = try context.query({ try store.primary() }) else {
            throw KeelError(.badConfig, "no active primary is registered", hint: "register the primary with \"keel primary register\"")
        }
        return primary
    }

    /// pg_basebackup's arguments: `-D`, source, `-U` replication user, `-X stream`, `--checkpoint=fast`,
    /// `--tablespace-mapping` for each `tablespace_mapping`, then
    /// `pg_basebackup_options` split as the shell would.
    func basebackupArguments(sourceConninfo: String, slot: String?) -> [String] {
        // No password on the command line (`ps` shows it to every user): it goes in PGPASSWORD (`baseBackup`).
        let conninfo = CommandLinePassword.split(Conninfo.removing(["dbname", "replication"], from: sourceConninfo)).conninfo
        var args = ["-D", context.config.dataDirectory, "-d", conninfo,
                    "-U", replicationUser, "-X", "stream", "--no-password"]
        if options.fastCheckpoint { args.append("--checkpoint=fast") }
        for mapping in context.config.tablespaceMappings {
            func escaped(_ path: String) -> String { path.replacing("=", with: "\\=") }
            args.append("--tablespace-mapping=\(escaped(mapping.oldDirectory))=\(escaped(mapping.newDirectory))")
        }
        args.append(contentsOf: ShellWords.split(context.config.pgBasebackupOptions))
        return args
    }

    /// `primary_conninfo` for a standby of `upstream`: the upstream's conninfo with `user` = the
    /// replication user, `application_name` = `node_name`, without `dbname`; with `password` only when
    /// `use_primary_conninfo_password`, `passfile` when configured. With `logical_slot_failover` the
    /// upstream's `dbname` stays: PostgreSQL's slot sync worker connects to that database.
    public static func primaryConninfo(upstream: String, config: KeelConfig, replicationUser: String) -> String {
        let dropped: Set<String> = config.logicalSlotFailover ? ["replication", "password", "target_session_attrs"]
            : ["dbname", "replication", "password", "target_session_attrs"]
        var conninfo = Conninfo.removing(dropped, from: upstream)
        conninfo = Conninfo.setting("user", to: replicationUser, in: conninfo)
        conninfo = Conninfo.setting("application_name", to: config.nodeName, in: conninfo)
        if config.bool("use_primary_conninfo_password"), let password = ProcessInfo.processInfo.environment["PGPASSWORD"] {
            conninfo = Conninfo.setting("password", to: password, in: conninfo)
        }
        if !config.string("passfile").isEmpty { conninfo = Conninfo.setting("passfile", to: config.string("passfile"), in: conninfo) }
        return conninfo
    }

    static func displayQuoted(_ word: String) -> String {
        word.contains(where: { $0.isWhitespace || $0 == "'" }) ? Placeholders.shellQuote(Conninfo.masked(word)) : word
    }
}
