#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres
import Logging

/// `keel sandbox create DIR [--nodes N] [--witness] [--base-port P] [--locations a,b] [--lua-hooks]`: a
/// real local cluster, reached only over Unix sockets in `DIR/<node>` (mode 0700; no TCP), built with Keel's own operations, as an operator would build one:
/// initdb of the primary, `primary register`, `standby clone` + start + `standby register` for each
/// standby, a separately initdb'd witness and `witness register`; then a keeld per node. Each node gets
/// `DIR/<name>/keel.conf` in repmgr.conf syntax (automatic failover, 1 s monitoring, 3 reconnect
/// attempts 1 s apart) and, with `--lua-hooks`, the sample Lua hooks (`DIR/hooks/`) for failover
/// validation and event notification (JSON lines in `DIR/events.jsonl`). Runs as the invoking user, in a
/// directory of that user's own (`SandboxDirectory`); `pg_hba.conf` trusts only the database user `repmgr`
/// over the local socket, which only the invoking user can open.
public struct SandboxCreate {
    public struct Options: Sendable {
        /// Data nodes: the primary and N-1 standbys (≥ 1).
        public var nodes: Int
        public var witness: Bool
        /// First port; the nodes take consecutive ports (the witness last).
        public var basePort: Int
        /// Locations given to the nodes in turn (the witness gets the first, the primary's).
        public var locations: [String]
        public var luaHooks: Bool
        public var pgBindir: String?
        /// `--dcs etcd`: a 3-member etcd beside the nodes, and `dcs` set on every node.
        public var etcd: Bool

        public init(nodes: Int = 3, witness: Bool = false, basePort: Int = 55432, locations: [String] = ["default"],
                    luaHooks: Bool = false, pgBindir: String? = nil, etcd: Bool = false) {
            self.etcd = etcd
            self.nodes = nodes
            self.witness = witness
            self.basePort = basePort
            self.locations = locations.isEmpty ? ["default"] : locations
            self.luaHooks = luaHooks
            self.pgBindir = pgBindir
        }
    }

    public let directory: String
    public let options: Options
    public let logger: Logger
    public let output: @Sendable (String) -> Void

    public init(directory: String, options: Options, logger: Logger, output: @escaping @Sendable (String) -> Void = { print($0) }) {
        self.directory = (directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory)
        self.options = options
        self.logger = logger
        self.output = output
    }

    /// Builds and starts the sandbox. Throws `KeelError` 1 for a non-empty DIR, an occupied port or bad
    /// options (nothing is created then); a failure later leaves DIR for `keel sandbox destroy DIR`.
    public func run() async throws {
        let fm = FileManager.default
        guard options.nodes >= 1, options.nodes <= 9 else { throw KeelError(.badConfig, "--nodes must be between 1 and 9") }
        var existing = stat()
        let exists = lstat(directory, &existing) == 0
        if exists { try SandboxDirectory.checkTrusted(directory) }
        if exists, let entries = try? fm.contentsOfDirectory(atPath: directory), !entries.isEmpty {
            throw KeelError(.badConfig, "sandbox directory \"\(directory)\" exists and is not empty",
                            hint: "choose a new directory, or remove this one with \"keel sandbox destroy \(directory)\"")
        }
        var names = (1...options.nodes).map { "node\($0)" }
        if options.witness { names.append("witness") }
        let ports = names.indices.map { options.basePort + $0 }
        for (name, port) in zip(names, ports) where !Self.portIsFree(port) {
            throw KeelError(.badConfig, "port \(port) on 127.0.0.1 (for \"\(name)\") is already in use",
                            hint: "choose other ports with --base-port")
        }
        let pgBindir = try Self.findBindir(options.pgBindir)
        let hooksSource = options.luaHooks ? try Self.findHooks() : nil
        let etcd = options.etcd ? try SandboxEtcd.plan() : nil

        try fm.createDirectory(atPath: PathString.deletingLastComponent(directory), withIntermediateDirectories: true)
        if !exists, mkdir(directory, 0o700) != 0 {
            throw KeelError(.badConfig, "unable to create sandbox directory \"\(directory)\"", detail: String(cString: strerror(errno)))
        }
        try SandboxDirectory.checkTrusted(directory)
        let nodes = names.enumerated().map { i, name in
            SandboxManifest.Node(id: name == "witness" ? 99 : i + 1, name: name,
                                 role: name == "witness" ? "witness" : (i == 0 ? "primary" : "standby"), port: ports[i],
                                 location: name == "witness" ? options.locations[0] : options.locations[i % options.locations.count],
                                 directory: directory + "/" + name)
        }
        let manifest = SandboxManifest(directory: directory, pgBindir: pgBindir, nodes: nodes, etcd: etcd)
        try manifest.save()
        if let hooksSource { try installHooks(from: hooksSource) }
        for node in nodes {
            try fm.createDirectory(atPath: node.directory, withIntermediateDirectories: true)
            try config(for: node, pgBindir: pgBindir, etcd: etcd).write(toFile: node.configFile, atomically: true, encoding: .utf8)
        }
        let control = SandboxControl(directory: directory, logger: logger, output: output)
        let primary = nodes[0]
        if let etcd {
            try await stage("start a 3-member etcd on ports \(etcd.map { String($0.clientPort) }.joined(separator: ", "))") {
                try await SandboxEtcd.start(etcd, sandbox: directory)
            }
        }

        try await stage("initdb and start the primary \"\(primary.name)\" on port \(primary.port)") {
            try await initdb(primary, pgBindir: pgBindir)
            try await control.startServer(primary, manifest: manifest)
            try createRepmgrDatabase(primary)
        }
        try await stage("keel primary register") {
            try await PrimaryRegister(context: try context(primary)).run()
        }
        for node in nodes where node.role == "standby" {
            try await stage("keel standby clone, start and register \"\(node.name)\" on port \(node.port)") {
                var ctx = try context(node)
                ctx.remote = RemoteNodeOptions(host: primary.directory, port: String(primary.port))
                try await StandbyClone(context: ctx, options: .init(fastCheckpoint: true, pgBindir: pgBindir)).run()
                try appendServerSettings(node)
                try await control.startServer(node, manifest: manifest)
                try await StandbyRegister(context: try context(node), options: .init()).run()
            }
        }
        if let witness = nodes.first(where: { $0.role == "witness" }) {
            try await stage("initdb, start and keel witness register \"\(witness.name)\" on port \(witness.port)") {
                try await initdb(witness, pgBindir: pgBindir)
                try await control.startServer(witness, manifest: manifest)
                try createRepmgrDatabase(witness)
                var ctx = try context(witness)
                ctx.remote = RemoteNodeOptions(host: primary.directory, port: String(primary.port))
                try await WitnessRegister(context: ctx).run()
            }
        }
        try await stage("start keeld on every node") {
            for node in nodes { try await control.startDaemon(node) }
        }
        logger.notice("sandbox ready in \"\(directory)\"; every node's configuration is DIR/<node>/keel.conf")
    }

    private func stage(_ what: String, _ body: () async throws -> Void) async throws {
        let started = Date()
        logger.notice("\(what) ...")
        try await body()
        logger.info("  done in \(Int(Date().timeIntervalSince(started) * 1000)) ms")
    }

    /// The operation context of `node` (its keel.conf), with quiet operation logging.
    private func context(_ node: SandboxManifest.Node) throws -> OpsContext {
        let config: KeelConfig
        do { config = try KeelConfig.load(path: node.configFile) } catch { throw error.keelError }
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        return OpsContext(config: config, logger: quiet, output: output)
    }

    /// keel.conf for `node`: identity, conninfo, data directory, binaries, slots, location, automatic
    /// failover with a short detection window, keeld's log and pid file; with --lua-hooks the hooks.
    func config(for node: SandboxManifest.Node, pgBindir: String, etcd: [SandboxEtcd.Member]? = nil) -> String {
        var lines = [
            "# Keel sandbox node \"\(node.name)\" (created by keel sandbox create)",
            "node_id=\(node.id)",
            "node_name='\(node.name)'",
            "conninfo='host=\(node.directory) port=\(node.port) user=repmgr dbname=repmgr connect_timeout=2'",
            "data_directory='\(node.dataDirectory)'",
            "pg_bindir='\(pgBindir)'",
            "repmgr_bindir='\(URL(fileURLWithPath: SandboxControl.siblingBinary("keel")).deletingLastPathComponent().path)'",
            "use_replication_slots=true",
            "location='\(node.location)'",
            "failover=automatic",
            "monitor_interval_secs=1",
            "reconnect_attempts=3",
            "reconnect_interval=1",
            "election_rerun_interval=5",
            "witness_sync_interval=1",
            "log_level=INFO",
            "log_file='\(node.keeldLog)'",
            "repmgrd_pid_file='\(node.pidFile)'",
            "pg_ctl_options='-l \(node.serverLog)'",
        ]
        if let etcd {
            lines += ["dcs='\(SandboxEtcd.dcs(etcd))'", "dcs_ttl=10", "cluster_name='sandbox'"]
        }
        if options.luaHooks {
            lines += [
                "failover_validation_command='lua:\(directory)/hooks/failover_validation.lua#validate'",
                "event_notification_command='lua:\(directory)/hooks/notify.lua'",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func initdb(_ node: SandboxManifest.Node, pgBindir: String) async throws {
        let result = try await ProcessRunner.run(pgBindir + "/initdb", ["-D", node.dataDirectory, "-U", "repmgr", "-A", "trust", "--no-sync"],
                                                 timeout: 120)
        guard result.succeeded else {
            throw KeelError(.localCommand, "initdb failed for \"\(node.name)\"", detail: result.stderr)
        }
        try appendServerSettings(node)
    }

    /// The settings a sandbox server needs, in `DIR/<node>/server.conf`, which `postgresql.conf` includes
    /// by a relative path (`../server.conf`): a clone or a pg_rewind copies the primary's postgresql.conf,
    /// and each node still reads its own port and socket directory. No TCP; the socket is the user's alone
    /// (0700), and `pg_hba.conf` trusts only the database user `repmgr` over it.
    private func appendServerSettings(_ node: SandboxManifest.Node) throws {
        let hba = """
            # Keel sandbox: only the sandbox's database user, only over the local socket (mode 0700)
            local   all           repmgr   trust
            local   replication   repmgr   trust

            """
        try hba.write(toFile: node.dataDirectory + "/pg_hba.conf", atomically: false, encoding: .utf8)
        let settings = """
            # Keel sandbox: settings of node "\(node.name)"
            listen_addresses = ''
            port = \(node.port)
            unix_socket_directories = '\(node.directory)'
            unix_socket_permissions = 0700
            wal_log_hints = on
            max_wal_senders = 10
            max_replication_slots = 10
            hot_standby = on
            wal_keep_size = '128MB'
            shared_buffers = '32MB'

            """
        try settings.write(toFile: node.directory + "/server.conf", atomically: true, encoding: .utf8)
        let path = node.dataDirectory + "/postgresql.conf"
        let include = "include_if_exists = '../server.conf'"
        let current = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        guard !current.contains(include) else { return }
        guard appendToFile(path, "\n# Keel sandbox: this node's own settings (port, sockets)\n\(include)\n") else {
            throw KeelError(.localCommand, "cannot write \(path)")
        }
    }

    private func createRepmgrDatabase(_ node: SandboxManifest.Node) throws {
        let conn = try Connection(conninfo: Conninfo.render([("host", node.directory), ("port", String(node.port)), ("user", "repmgr"),
                                                             ("dbname", "postgres"), ("connect_timeout", "5")]))
        // FILE_COPY (PostgreSQL 15+) leaves no dirty buffers behind for the clones' checkpoint; 13 and 14 only copy files.
        let version = try conn.queryRow("SELECT pg_catalog.current_setting('server_version_num')::int AS v")?.int("v") ?? 0
        try conn.query(version >= 150000 ? "CREATE DATABASE repmgr STRATEGY = FILE_COPY" : "CREATE DATABASE repmgr")
        try conn.query("CHECKPOINT")
    }

    private func installHooks(from source: String) throws {
        let target = directory + "/hooks"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        for file in ["failover_validation.lua", "notify.lua", "promote.lua", "follow.lua"] {
            var text = try String(contentsOfFile: source + "/" + file, encoding: .utf8)
            if file == "notify.lua" {
                text = text.replacing("\"/var/log/keel/events.jsonl\"", with: "\"\(directory)/events.jsonl\"")
            }
            try text.write(toFile: target + "/" + file, atomically: true, encoding: .utf8)
        }
    }

    /// Whether nothing listens on 127.0.0.1:`port` (a bind attempt).
    static func portIsFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // As PostgreSQL does: connections lingering in TIME_WAIT do not make a port busy.
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// PostgreSQL's server binaries: `-b`, else the directory holding initdb (`PostgresBinaries`).
    static func findBindir(_ given: String?) throws -> String {
        let initdb = try PostgresBinaries(bindir: given ?? "", majorVersion: 15).path("initdb")
        // A PATH entry may be a link (/usr/local/bin/initdb → …/15/bin/initdb): the directory of the real
        // program holds the rest (pg_basebackup, pg_rewind).
        return URL(fileURLWithPath: initdb).resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    /// The sample hooks: `KEEL_HOOKS_DIR`, else `hooks/` of the checkout this keel was built in, else
    /// /usr/share/keel/hooks.
    static func findHooks() throws -> String {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates = [ProcessInfo.processInfo.environment["KEEL_HOOKS_DIR"]].compactMap { $0 }
        var dir = exe
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("hooks").path)
            dir = dir.deletingLastPathComponent()
        }
        candidates.append("/usr/share/keel/hooks")
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/failover_validation.lua") }) else {
            throw KeelError(.badConfig, "the sample Lua hooks were not found", hint: "set KEEL_HOOKS_DIR to the hooks/ folder of Keel's source")
        }
        return found
    }
}
