#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

extension StandbyClone {
    /// A configuration file of the source that lives outside its data directory (`--copy-external-config-files`).
    struct ExternalFile {
        /// `config_file`, `hba_file` or `ident_file`.
        var setting: String
        /// Its path on the source.
        var sourcePath: String
        /// Its contents, read with `pg_read_file()` during the checks.
        var contents: String
    }

    /// Where one tablespace of the source goes on this node.
    public struct TablespaceTarget: Sendable, Equatable {
        /// The tablespace's name.
        public var name: String
        /// Its directory on the source.
        public var location: String
        /// Its directory here: the `tablespace_mapping` target, else the same path.
        public var target: String
        /// Whether `tablespace_mapping` maps it.
        public var mapped: Bool
    }

    /// What the checks found; the plan is built from it.
    struct Facts {
        var source: Connection
        var sourceConninfo: String
        var info: ServerInfo
        var upstream: NodeRecord
        var upstreamConnection: Connection
        var slotExisted: Bool
        /// Directories whose contents `--force` removes: the data directory first, then tablespace targets.
        var toClear: [String]
        var binaries: PostgresBinaries
        var externalFiles: [ExternalFile]
    }

    /// Where each tablespace (`name`, `location` on the source) goes, by `mappings` (pure).
    public static func tablespaceTargets(_ tablespaces: [(name: String, location: String)], mappings: [TablespaceMapping]) -> [TablespaceTarget] {
        tablespaces.map { tablespace in
            let mapping = mappings.first { $0.oldDirectory == tablespace.location }
            return TablespaceTarget(name: tablespace.name, location: tablespace.location,
                                    target: mapping?.newDirectory ?? tablespace.location, mapped: mapping != nil)
        }
    }

    /// Every check, in order; nothing is changed.
    func check() async throws -> Facts {
        let config = context.config
        guard !context.remote.isEmpty else {
            throw KeelError(.badConfig, "no source host provided", hint: "use -h/--host (and -p, -U, -d) to name the node to clone from")
        }
        let sourceConninfo = try context.remote.conninfo(defaultsFrom: config.conninfo)
        let source = try context.connect(sourceConninfo, what: "source node")
        context.logger.info("connected to source node, checking its state")
        let info = try context.query { try ServerInfo.read(source) }
        guard info.versionNumber >= 120000 else {
            throw KeelError(.badConfig, "source server is PostgreSQL \(info.version); Keel needs PostgreSQL 12 or later")
        }
        guard try context.query({ try Migrator(connection: source).schemaExists() }) else {
            throw KeelError(.badConfig, "no metadata found on the source node",
                            hint: "register the primary first with \"keel primary register\"")
        }
        let upstream = try resolveUpstream(store: MetadataStore(connection: source))
        context.logger.info("upstream node is \"\(upstream.nodeName)\" (ID: \(upstream.nodeID))")
        let (upstreamConnection, upInfo) = try checkUpstream(upstream, source: info, sourceConninfo: sourceConninfo)
        let toClear = options.replicationConfOnly ? try checkExistingDataDirectory() : try checkTargets(source: source)
        if !options.replicationConfOnly { try checkWalSenders(info) }
        let replication = try context.connect(ReplicationProbe.replicationConninfo(sourceConninfo, replicationUser: replicationUser),
                                              what: "source node (replication connection)")
        _ = try context.query { try replication.simpleQuery("IDENTIFY_SYSTEM") }
        context.logger.info("replication connection to the source node as user \"\(replicationUser)\" is possible")
        let slotExisted = try checkSlot(upstream: upstream, connection: upstreamConnection, info: upInfo)
        let binaries = PostgresBinaries(bindir: options.pgBindir ?? config.pgBindir, majorVersion: info.versionNumber / 10000)
        if !options.replicationConfOnly {
            _ = try binaries.path("pg_basebackup")
            if options.verifyBackup { _ = try binaries.path("pg_verifybackup") }
        }
        let externalFiles = options.copyExternalConfigFiles == nil ? [] : try readExternalFiles(source)
        return Facts(source: source, sourceConninfo: sourceConninfo, info: info, upstream: upstream, upstreamConnection: upstreamConnection,
                     slotExisted: slotExisted, toClear: toClear, binaries: binaries, externalFiles: externalFiles)
    }

    /// The upstream answers and belongs to the source's cluster (not a witness or an unrelated server).
    private func checkUpstream(_ upstream: NodeRecord, source info: ServerInfo, sourceConninfo: String) throws -> (Connection, ServerInfo) {
        let upstreamConnection = try context.connect(upstream.conninfo, what: "upstream \(upstream.nodeLabel)")
        let upInfo = try context.query { try ServerInfo.read(upstreamConnection) }
        guard upInfo.systemIdentifier == info.systemIdentifier else {
            throw KeelError(.badConfig, "the source node is not part of the cluster of upstream \(upstream.nodeLabel)",
                            detail: "source \"\(Conninfo.masked(sourceConninfo))\" has system identifier \(info.systemIdentifier), the upstream \(upInfo.systemIdentifier)",
                            hint: "clone from the primary or from a standby of this cluster (a witness cannot be cloned)")
        }
        return (upstreamConnection, upInfo)
    }

    /// The data directory and every tablespace's target directory: usable, no server running, empty (or
    /// `--force`). Returns the directories whose contents `--force` will remove. Throws 1 naming each
    /// occupied directory.
    private func checkTargets(source: Connection) throws -> [String] {
        let config = context.config
        let dataDir = DataDirectory(config.dataDirectory)
        if let problem = dataDir.unusableReason {
            throw KeelError(.badConfig, "data directory \"\(config.dataDirectory)\" cannot be used", detail: problem)
        }
        if let pid = dataDir.runningPostmasterPID {
            throw KeelError(.badConfig, "a PostgreSQL server is running in the data directory \"\(config.dataDirectory)\" (PID \(pid))",
                            hint: "stop it before cloning over it")
        }
        var occupied: [String] = dataDir.isEmpty ? [] : ["data directory \"\(config.dataDirectory)\""]
        var toClear: [String] = dataDir.isEmpty ? [] : [config.dataDirectory]
        for tablespace in try tablespaceTargets(source) {
            let directory = DataDirectory(tablespace.target)
            if let problem = directory.unusableReason {
                throw KeelError(.badConfig, "tablespace directory \"\(tablespace.target)\" (tablespace \"\(tablespace.name)\") cannot be used", detail: problem)
            }
            guard !directory.isEmpty else { continue }
            guard tablespace.mapped else {
                throw KeelError(.badConfig, "tablespace directory \"\(tablespace.target)\" (tablespace \"\(tablespace.name)\") exists and is not empty",
                                detail: "tablespace_mapping does not map it, so it may be the source's own directory on this host; -F/--force does not remove it",
                                hint: "map it with tablespace_mapping = '\(tablespace.location)=NEWDIR', or empty it by hand")
            }
            occupied.append("tablespace directory \"\(tablespace.target)\" (tablespace \"\(tablespace.name)\")")
            toClear.append(tablespace.target)
        }
        guard !occupied.isEmpty else { return [] }
        if context.force {
            for what in occupied { context.logger.warning("\(what) is not empty and will be overwritten (-F/--force)") }
            return toClear
        }
        let message = occupied.count == 1 && !dataDir.isEmpty
            ? "target data directory \"\(config.dataDirectory)\" exists and is not empty"
            : "target directories exist and are not empty"
        throw KeelError(.badConfig, message, detail: occupied.count == 1 ? nil : "not empty: " + occupied.joined(separator: ", "),
                        hint: "use -F/--force to overwrite \(occupied.count == 1 ? "it" : "them"), or choose other directories (data_directory, tablespace_mapping)")
    }

    /// The source's tablespaces (those with their own location) and where each goes here.
    private func tablespaceTargets(_ source: Connection) throws -> [TablespaceTarget] {
        let rows = try context.query {
            try source.query("SELECT spcname, pg_catalog.pg_tablespace_location(oid) AS location FROM pg_catalog.pg_tablespace WHERE pg_catalog.pg_tablespace_location(oid) <> '' ORDER BY spcname")
        }
        let tablespaces = rows.compactMap { row -> (name: String, location: String)? in
            guard let name = row.string("spcname"), let location = row.string("location") else { return nil }
            return (name, location)
        }
        return Self.tablespaceTargets(tablespaces, mappings: context.config.tablespaceMappings)
    }

    /// `--replication-conf-only`: the data directory must hold a PostgreSQL data directory; a running server
    /// needs `-F/--force` (the configuration then applies at its next restart).
    private func checkExistingDataDirectory() throws -> [String] {
        let config = context.config
        guard FileManager.default.fileExists(atPath: config.dataDirectory + "/PG_VERSION") else {
            throw KeelError(.badConfig, "\"\(config.dataDirectory)\" is not a PostgreSQL data directory",
                            hint: "--replication-conf-only writes the standby configuration of an existing copy; clone it first")
        }
        if let pid = DataDirectory(config.dataDirectory).runningPostmasterPID {
            guard context.force else {
                throw KeelError(.badConfig, "a PostgreSQL server is running in the data directory \"\(config.dataDirectory)\" (PID \(pid))",
                                hint: "use -F/--force to write the replication configuration anyway (it applies at the next restart)")
            }
            context.logger.warning("PostgreSQL is running (PID \(pid)): the replication configuration applies at its next restart")
        }
        return []
    }

    /// pg_basebackup -X stream needs two free walsenders on the source.
    private func checkWalSenders(_ info: ServerInfo) throws {
        let freeSenders = info.maxWalSenders - info.walSendersInUse
        guard freeSenders >= 2 else {
            throw KeelError(.badConfig, "insufficient free walsenders on the source node",
                            detail: "\(freeSenders) free of max_wal_senders = \(info.maxWalSenders); pg_basebackup -X stream needs 2",
                            hint: "increase \"max_wal_senders\" on the source node")
        }
        context.logger.info("\(freeSenders) free walsenders on the source node (max_wal_senders = \(info.maxWalSenders))")
    }

    /// Whether this node's slot exists on the upstream (`use_replication_slots`); throws 1 when it is in use
    /// or no slot is free.
    private func checkSlot(upstream: NodeRecord, connection: Connection, info: ServerInfo) throws -> Bool {
        let config = context.config
        guard config.useReplicationSlots else { return false }
        let slotName = NodeRecord.slotName(for: config.nodeID)
        let active = try context.query { try ReplicationSlot.isActive(slotName, on: connection) }
        if active == true {
            throw KeelError(.badConfig, "replication slot \"\(slotName)\" is active on upstream \(upstream.nodeLabel)",
                            hint: "another standby with node ID \(config.nodeID) is streaming from it")
        }
        if active == nil, info.maxReplicationSlots - info.replicationSlotsInUse < 1 {
            throw KeelError(.badConfig, "no free replication slots on upstream \(upstream.nodeLabel)",
                            detail: "max_replication_slots = \(info.maxReplicationSlots), in use: \(info.replicationSlotsInUse)")
        }
        return active != nil
    }

    /// `--copy-external-config-files`: the source's configuration files outside its data directory, read
    /// with `pg_read_file()` (no ssh needed; superuser or pg_read_server_files). Throws 1 when one cannot be read.
    private func readExternalFiles(_ source: Connection) throws -> [ExternalFile] {
        let rows = try context.query {
            try source.query("SELECT name, setting FROM pg_catalog.pg_settings WHERE name IN ('data_directory', 'config_file', 'hba_file', 'ident_file') ORDER BY name")
        }
        let settings = Dictionary(rows.compactMap { row in row.string("name").map { ($0, row.string("setting") ?? "") } }) { a, _ in a }
        let dataDirectory = (settings["data_directory"] ?? "") + "/"
        var files: [ExternalFile] = []
        for name in ["config_file", "hba_file", "ident_file"] {
            guard let path = settings[name], !path.isEmpty, !path.hasPrefix(dataDirectory) else { continue }
            do {
                let contents = try source.queryRow("SELECT pg_catalog.pg_read_file($1) AS contents", [path])?.string("contents") ?? ""
                files.append(ExternalFile(setting: name, sourcePath: path, contents: contents))
            } catch {
                throw KeelError(.badConfig, "unable to read \(name) \"\(path)\" on the source node", detail: "\(error)",
                                hint: "--copy-external-config-files reads the files with pg_read_file(): connect as a superuser or a member of pg_read_server_files")
            }
        }
        if files.isEmpty { context.logger.info("the source node has no configuration files outside its data directory") }
        return files
    }
}

/// Checks of `standby clone`'s option values that need no cluster.
public enum StandbyCloneOptionCheck {
    /// Whether `value` is a PostgreSQL time value as `recovery_min_apply_delay` takes it: an integer with
    /// an optional unit (`ms`, `s`, `min`, `h`, `d`).
    public static func isDuration(_ value: String) -> Bool {
        let digits = value.prefix { $0.isNumber }
        let unit = value.dropFirst(digits.count).trimmingSpaces()
        return !digits.isEmpty && ["", "ms", "s", "min", "h", "d"].contains(unit)
    }
}
