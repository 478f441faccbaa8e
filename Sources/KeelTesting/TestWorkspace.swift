import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A temporary directory in which a test starts PostgreSQL servers and runs Keel's binaries —
/// as the unprivileged server user when the tests run as root — and which always stops what
/// was started there: on `close()`, on deinit, and (through a guardian process) when the
/// test process dies without either.
///
/// Layout: `bin/` (staged keel binaries), `sockets/` (unix sockets of every server),
/// `data/<name>/` data directories with their logs `data/<name>.log`, `logs/` (background
/// process output); other files where `writeFile` puts them.
public final class TestWorkspace: @unchecked Sendable {
    /// The workspace directory, `/tmp/keel-test-<name>-<random>`.
    public let path: String
    /// The OS user that runs PostgreSQL and Keel: "postgres" (or `KEEL_TEST_SERVER_USER`) when
    /// the tests run as root, nil otherwise (commands then run as the current user).
    public let serverUser: String?
    /// The PostgreSQL server binaries: `TestPostgres.binDirectory` (`KEEL_PG_BINDIR`, else Debian's 15).
    public let postgresBinDirectory: String
    /// `<path>/bin`, where `stageKeelBinaries()` copies keel and keeld.
    public var binDirectory: String { path + "/bin" }
    /// `<path>/sockets`, the unix socket directory of every server of the workspace.
    public var socketDirectory: String { path + "/sockets" }
    /// `<path>/data`, the parent of the data directories.
    public var dataRoot: String { path + "/data" }
    /// `<path>/logs`, where background processes write their output.
    public var logDirectory: String { path + "/logs" }

    let context: CommandContext
    private let keep: Bool
    private let lock = NSLock()
    private var closed = false
    private var servers: [PostgresServer] = []
    private var backgroundProcesses: [BackgroundProcess] = []
    private var ports: Set<Int> = []
    private var guardian: WorkspaceGuardian?

    /// Makes `/tmp/keel-test-<name>-<random>/` (owned by the server user, mode 0755 so that
    /// user can read it) with its subfolders, and starts the guardian process.
    public init(name: String) throws {
        let environment = ProcessInfo.processInfo.environment
        serverUser = FileOwnership.isRoot ? (environment["KEEL_TEST_SERVER_USER"] ?? "postgres") : nil
        if let serverUser { _ = try FileOwnership.account(named: serverUser) }
        postgresBinDirectory = TestPostgres.binDirectory
        keep = environment["KEEL_KEEP_TEST_DIRS"] == "1"

        let safeName = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" }.prefix(32))
        let random = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(8)
        path = "/tmp/keel-test-\(safeName.isEmpty ? "x" : safeName)-\(random)"
        context = CommandContext(
            serverUser: serverUser, postgresBinDirectory: postgresBinDirectory,
            extraSearchDirectories: [path + "/bin"], defaultDirectory: path)

        guard mkdir(path, 0o700) == 0 else {
            throw HarnessError.setupFailed("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        do {
            try FileOwnership.chmod(path, 0o755)
            try FileOwnership.chown(path, to: serverUser)
            for sub in ["bin", "sockets", "data", "logs", ".harness"] {
                try FileOwnership.makeDirectory(path + "/" + sub, mode: 0o755, owner: serverUser)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        guardian = WorkspaceGuardian.start(workspace: path, context: context, keep: keep)
    }

    deinit {
        close()
    }

    // MARK: - PostgreSQL servers

    /// A path for a data directory that does not exist yet (e.g. a `keel standby clone`
    /// target): `<path>/data/<name>`, whose parent is owned by the server user. Its server log,
    /// by the convention of `startPrimary` and `server(name:port:)`, is `<path>/data/<name>.log`.
    public func dataDirectoryPath(name: String) -> String {
        dataRoot + "/" + name
    }

    /// Runs initdb (bootstrap superuser `repmgr`, trust authentication), configures the
    /// instance for replication, starts it on a free port and creates database `repmgr`, so
    /// that the conninfo `user=repmgr dbname=repmgr` works.
    ///
    /// postgresql.conf: listen_addresses='127.0.0.1', the port, unix_socket_directories=<sockets>,
    /// wal_level=replica, max_wal_senders=10, max_replication_slots=10, hot_standby=on,
    /// wal_log_hints=on, logging_collector=off, fsync=off, shared_buffers=16MB, wal_keep_size=128MB;
    /// the log goes to `<data>/../<name>.log` through `pg_ctl -l`. pg_hba.conf: trust for local
    /// and 127.0.0.1/32, for all databases and for replication. When the port turns out to be
    /// taken at start-up, another one is tried.
    ///
    /// With an `endpoint`, the server runs inside its network namespace, listens on its address
    /// instead of 127.0.0.1 and trusts its whole subnet (for replication too).
    public func startPrimary(name: String, endpoint: NetworkEndpoint? = nil) throws -> PostgresServer {
        try checkOpen()
        let dataDirectory = dataDirectoryPath(name: name)
        guard !FileManager.default.fileExists(atPath: dataDirectory) else {
            throw HarnessError.setupFailed("data directory \(dataDirectory) already exists")
        }
        try context.run(
            "initdb",
            ["-D", dataDirectory, "-U", "repmgr", "--auth=trust", "-E", "UTF8", "--locale=C",
             "--no-sync", "--no-instructions"],
            timeout: 180
        ).requireSuccess()

        try FileOwnership.writeFile(
            dataDirectory + "/pg_hba.conf", contents: Self.hbaConfiguration + (endpoint.map(Self.hbaLines(for:)) ?? ""), mode: 0o600, owner: serverUser)
        let confPath = dataDirectory + "/postgresql.conf"
        let originalConf = (try? String(contentsOfFile: confPath, encoding: .utf8)) ?? ""

        var lastError: Error?
        for _ in 0..<3 {
            let port = try freePort()
            try FileOwnership.writeFile(
                confPath, contents: originalConf + serverConfiguration(port: port, listen: endpoint?.address ?? "127.0.0.1"),
                mode: 0o600, owner: serverUser)
            let server = register(PostgresServer(
                name: name, port: port, dataDirectory: dataDirectory, logFile: dataDirectory + ".log",
                socketDirectory: socketDirectory, host: endpoint?.address ?? "127.0.0.1",
                context: context.inNamespace(endpoint?.namespace)))
            do {
                try server.start()
            } catch {
                lastError = error
                let log = server.log()
                if log.contains("could not bind") || log.contains("Address already in use") {
                    unregister(server)
                    continue
                }
                throw error
            }
            // FILE_COPY and a checkpoint leave no dirty buffers behind: the default WAL_LOG
            // strategy dirties ~1000 buffers, which makes the next spread checkpoint (e.g. of a
            // pg_basebackup without `-c fast`) pace itself over about 90 seconds.
            _ = try server.psql(TestPostgres.isAtLeast(15) ? "CREATE DATABASE repmgr STRATEGY = FILE_COPY" : "CREATE DATABASE repmgr",
                                dbname: "postgres")
            _ = try server.psql("CHECKPOINT", dbname: "postgres")
            return server
        }
        throw lastError ?? HarnessError.setupFailed("could not start \(name)")
    }

    /// A handle for a data directory that something else created in this workspace (e.g. a
    /// standby made by `keel standby clone`), so that the test can start, stop, kill and query
    /// it. `port` must be the port its configuration gives it (see
    /// `PostgresServer.appendConfiguration`); the log file is `<data>/../<name>.log`.
    /// With an `endpoint`, the server's commands run in its network namespace and `host` is its address.
    public func server(name: String, port: Int, dataDirectory: String? = nil, host: String = "127.0.0.1",
                       endpoint: NetworkEndpoint? = nil) -> PostgresServer {
        let directory = dataDirectory ?? dataDirectoryPath(name: name)
        let logFile = (directory as NSString).deletingLastPathComponent + "/" + name + ".log"
        lock.lock()
        ports.insert(port)
        lock.unlock()
        return register(PostgresServer(
            name: name, port: port, dataDirectory: directory, logFile: logFile,
            socketDirectory: socketDirectory, host: endpoint?.address ?? host, context: context.inNamespace(endpoint?.namespace)))
    }

    /// The servers created through this workspace so far.
    public var knownServers: [PostgresServer] {
        lock.lock()
        defer { lock.unlock() }
        return servers
    }

    /// A free TCP port on 127.0.0.1 (bind port 0, read it back, close), never one that another
    /// server of this workspace — or of another workspace of this test process — got.
    public func freePort() throws -> Int {
        while true {
            let port = try PortAllocator.shared.allocate()
            lock.lock()
            let fresh = ports.insert(port).inserted
            lock.unlock()
            if fresh { return port }
        }
    }

    // MARK: - Commands

    /// Runs an executable as the server user (through `runuser` when root) or directly, with
    /// `arguments`, `environment` added to the inherited one (inherited `PG*` variables are
    /// dropped), in `currentDirectory` (default: the workspace), and kills its process group
    /// after `timeout` seconds (then throws `HarnessError.commandTimedOut`). A bare name is
    /// looked up in the PostgreSQL bin directory, `<workspace>/bin`, then `PATH`. With a
    /// `namespace`, the command runs inside that network namespace (`ip netns exec`, see `NetworkLab`).
    public func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        currentDirectory: String? = nil, timeout: Double = 120, namespace: String? = nil
    ) throws -> ProcessResult {
        try context.inNamespace(namespace).run(executable, arguments, environment: environment, currentDirectory: currentDirectory, timeout: timeout)
    }

    /// Starts a long-running command (e.g. `keeld`) like `run` does, with stdout and stderr
    /// going to `<workspace>/logs/<name>.log`. `close()` terminates it if the test did not.
    /// With a `namespace`, it runs inside that network namespace (see `NetworkLab`).
    public func spawn(
        _ executable: String, _ arguments: [String], name: String, environment: [String: String] = [:],
        currentDirectory: String? = nil, namespace: String? = nil
    ) throws -> BackgroundProcess {
        try checkOpen()
        let resolved = try context.resolve(executable)
        let (launcher, launchArguments) = try context.inNamespace(namespace).commandLine(resolved, arguments, environment: environment)
        let logFile = logDirectory + "/" + name + ".log"
        try FileOwnership.writeFile(logFile, contents: "", mode: 0o644, owner: serverUser)
        guard let output = FileHandle(forWritingAtPath: logFile) else {
            throw HarnessError.setupFailed("cannot open \(logFile)")
        }
        var inherited = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
        inherited.merge(environment) { _, new in new }
        let request = LaunchRequest(
            executable: launcher, arguments: launchArguments, environment: inherited,
            currentDirectory: currentDirectory ?? path,
            stdout: .descriptor(output.fileDescriptor), stderr: .descriptor(output.fileDescriptor))
        let commandLine = ([launcher] + launchArguments).map(ProcessRunner.quote).joined(separator: " ")
        let background: BackgroundProcess
        do {
            background = try BackgroundProcess(name: name, logFile: logFile, commandLine: commandLine, request: request)
        } catch {
            try? output.close()
            throw error
        }
        try? output.close()
        lock.lock()
        backgroundProcesses.append(background)
        lock.unlock()
        recordProcessGroups()
        return background
    }

    /// Copies the built `keel` and `keeld` binaries into `<workspace>/bin` (readable and
    /// executable by the server user) and returns that directory. The build directory is
    /// `KEEL_BIN_DIR`, else `<package root>/.build/debug` (the package root being the folder
    /// with Package.swift above this source file).
    public func stageKeelBinaries() throws -> String {
        let source = try PackageLocator.keelBinaryDirectory()
        for tool in ["keel", "keeld"] {
            let from = source + "/" + tool
            guard FileManager.default.isExecutableFile(atPath: from) else {
                throw HarnessError.setupFailed("\(from) is missing: build the package first (swift build) or set KEEL_BIN_DIR")
            }
            let to = binDirectory + "/" + tool
            try? FileManager.default.removeItem(atPath: to)
            do {
                try FileManager.default.copyItem(atPath: URL(fileURLWithPath: from).resolvingSymlinksInPath().path, toPath: to)
            } catch {
                throw HarnessError.setupFailed("cannot copy \(from) to \(to): \(error)")
            }
            try FileOwnership.chmod(to, 0o755)
            try FileOwnership.chown(to, to: serverUser)
        }
        return binDirectory
    }

    /// Writes `contents` to `<workspace>/<relativePath>` (creating missing folders), owned by
    /// the server user with `mode`, and returns the absolute path (e.g. for a keel.conf).
    @discardableResult
    public func writeFile(_ relativePath: String, _ contents: String, mode: Int = 0o600) throws -> String {
        guard !relativePath.hasPrefix("/"), !relativePath.split(separator: "/").contains("..") else {
            throw HarnessError.setupFailed("writeFile needs a path inside the workspace, got \(relativePath)")
        }
        let target = path + "/" + relativePath
        try FileOwnership.makeDirectory(
            (target as NSString).deletingLastPathComponent, mode: 0o755, owner: serverUser, below: path)
        try FileOwnership.writeFile(target, contents: contents, mode: mode, owner: serverUser)
        return target
    }

    // MARK: - Clean-up

    /// The data directories in the workspace that have a `postmaster.pid` (servers started by
    /// the tests or by keel commands), found by walking the workspace without entering data
    /// directories.
    public func dataDirectoriesWithPostmasterPID() -> [String] {
        var found: [String] = []
        var pending: [(String, Int)] = [(path, 0)]
        let files = FileManager.default
        while let (directory, depth) = pending.popLast() {
            guard let entries = try? files.contentsOfDirectory(atPath: directory) else { continue }
            if entries.contains("postmaster.pid") { found.append(directory) }
            if entries.contains("PG_VERSION") || depth >= 6 { continue }
            for entry in entries {
                let child = directory + "/" + entry
                // attributesOfItem does not follow symlinks: only real folders are walked.
                guard let attributes = try? files.attributesOfItem(atPath: child),
                      attributes[.type] as? FileAttributeType == .typeDirectory
                else { continue }
                pending.append((child, depth + 1))
            }
        }
        return found.sorted()
    }

    /// Stops every PostgreSQL server whose data directory lies in the workspace and has a
    /// `postmaster.pid`: `pg_ctl stop -m immediate -D …`, falling back to SIGKILL of the pid in
    /// `postmaster.pid` (and its children). Returns the data directories it had to stop.
    @discardableResult
    public func stopAllServers() -> [String] {
        var stopped: [String] = []
        for dataDirectory in dataDirectoriesWithPostmasterPID() {
            guard let pid = Postmaster.recordedPID(dataDirectory: dataDirectory) else { continue }
            guard Postmaster.isAlive(pid), Postmaster.belongs(pid, to: dataDirectory) else {
                Postmaster.clearStaleLockIfZombie(dataDirectory: dataDirectory, pid: pid)
                continue
            }
            stopped.append(dataDirectory)
            _ = try? context.run("pg_ctl", ["stop", "-D", dataDirectory, "-m", "immediate", "-w", "-t", "30"], timeout: 45)
            Postmaster.reap([pid])
            if Postmaster.isAlive(pid) {
                Self.warn("pg_ctl stop did not stop \(dataDirectory); killing postmaster \(pid)")
                Postmaster.killTree(pid)
                Postmaster.clearStaleLockIfZombie(dataDirectory: dataDirectory, pid: pid)
            }
        }
        return stopped
    }

    /// Terminates the background processes, stops every server of the workspace (see
    /// `stopAllServers`), ends the guardian and removes the directory (unless
    /// `KEEL_KEEP_TEST_DIRS=1`). Idempotent; also called from deinit. Never throws: problems
    /// are reported on stderr.
    public func close() {
        lock.lock()
        if closed {
            lock.unlock()
            return
        }
        closed = true
        let background = backgroundProcesses
        let guardian = self.guardian
        lock.unlock()

        for process in background { process.terminate(timeout: 10) }
        stopAllServers()
        guardian?.stop()
        if keep {
            Self.warn("keeping test directory \(path) (KEEL_KEEP_TEST_DIRS=1)")
        } else {
            do {
                try FileManager.default.removeItem(atPath: path)
            } catch {
                Self.warn("could not remove \(path): \(error)")
            }
        }
    }

    /// Whether `close()` ran.
    public var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return closed
    }

    // MARK: - Helpers

    private static let hbaConfiguration = """
        # written by the Keel test harness
        local   all             all                     trust
        host    all             all     127.0.0.1/32    trust
        local   replication     all                     trust
        host    replication     all     127.0.0.1/32    trust

        """

    private static func hbaLines(for endpoint: NetworkEndpoint) -> String {
        """
        host    all             all     \(endpoint.subnet)    trust
        host    replication     all     \(endpoint.subnet)    trust

        """
    }

    private func serverConfiguration(port: Int, listen: String) -> String {
        """

        # --- Keel test harness ---
        listen_addresses = '\(listen)'
        port = \(port)
        unix_socket_directories = '\(socketDirectory)'
        wal_level = replica
        max_wal_senders = 10
        max_replication_slots = 10
        hot_standby = on
        wal_log_hints = on
        logging_collector = off
        fsync = off
        shared_buffers = 16MB
        wal_keep_size = 128MB

        """
    }

    private func register(_ server: PostgresServer) -> PostgresServer {
        lock.lock()
        servers.append(server)
        lock.unlock()
        return server
    }

    private func unregister(_ server: PostgresServer) {
        lock.lock()
        servers.removeAll { $0 === server }
        lock.unlock()
    }

    /// Rewrites the file the guardian reads after a crash with the process groups of the
    /// background processes that still run (so that it never kills a reused group id).
    private func recordProcessGroups() {
        lock.lock()
        let running = backgroundProcesses.filter(\.isRunning).map(\.pid)
        lock.unlock()
        let text = running.map { "\($0)\n" }.joined()
        try? Data(text.utf8).write(to: URL(fileURLWithPath: WorkspaceGuardian.groupsFile(workspace: path)))
    }

    private func checkOpen() throws {
        if isClosed { throw HarnessError.setupFailed("workspace \(path) is closed") }
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("[KeelTesting] \(message)\n".utf8))
    }
}
