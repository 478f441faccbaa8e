import Foundation
import Testing
@testable import KeelTesting

/// Tests of the PostgreSQL test harness itself, on real PostgreSQL servers (15, or 18 in the second pass of scripts/test).
@Suite("PostgreSQL test harness", .serialized)
struct HarnessTests {
    /// The owner of a file, by account name.
    private func owner(of path: String) throws -> String? {
        try FileManager.default.attributesOfItem(atPath: path)[.ownerAccountName] as? String
    }

    /// The real user id of a live process, from /proc.
    private func uid(ofProcess pid: Int32) throws -> UInt32? {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }) else { return nil }
        return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { UInt32($0) }
    }

    @Test("a primary starts, answers psql, runs as the server user and stops")
    func primaryLifecycle() throws {
        let workspace = try TestWorkspace(name: "harness")
        defer { workspace.close() }
        let primary = try workspace.startPrimary(name: "node1")

        #expect(try primary.psql("select current_user") == "repmgr")
        #expect(try primary.psql("show wal_level") == "replica")
        #expect(try primary.psql("select current_database()") == "repmgr")
        #expect(try primary.psql("show port") == String(primary.port))
        #expect(primary.conninfo() == "host=127.0.0.1 port=\(primary.port) user=repmgr dbname=repmgr connect_timeout=2")
        #expect(primary.isRunning)
        let pid = try #require(primary.postmasterPID)
        #expect(Postmaster.isAlive(pid))

        if let user = workspace.serverUser {
            #expect(user == "postgres")
            #expect(try owner(of: primary.dataDirectory) == user)
            #expect(try owner(of: workspace.path) == user)
            #expect(try owner(of: primary.logFile) == user)
            let account = try FileOwnership.account(named: user)
            #expect(try uid(ofProcess: pid) == UInt32(account.uid))
            #expect(try workspace.run("id", ["-un"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == user)
        } else {
            #expect(getuid() != 0)
        }
        let mode = try FileManager.default.attributesOfItem(atPath: primary.dataDirectory)[.posixPermissions] as? Int
        #expect(mode == 0o700)

        try primary.stop()
        #expect(!primary.isRunning)
        #expect(!Postmaster.isAlive(pid))
        try primary.stop()  // stopping a stopped server is harmless

        workspace.close()
        #expect(!FileManager.default.fileExists(atPath: primary.dataDirectory))
        #expect(!FileManager.default.fileExists(atPath: workspace.path))
        #expect(!Postmaster.isAlive(pid))
    }

    @Test("closing a workspace stops a server that still runs")
    func closeStopsRunningServer() throws {
        let workspace = try TestWorkspace(name: "harness-close")
        let primary = try workspace.startPrimary(name: "node1")
        let pid = try #require(primary.postmasterPID)
        let path = workspace.path

        workspace.close()
        #expect(!Postmaster.isAlive(pid))
        #expect(!FileManager.default.fileExists(atPath: path))
        workspace.close()  // idempotent
        #expect(workspace.isClosed)
    }

    @Test("a killed server is dead, can be restarted and still has its data")
    func killAndRestart() throws {
        let workspace = try TestWorkspace(name: "harness-kill")
        defer { workspace.close() }
        let primary = try workspace.startPrimary(name: "node1")
        _ = try primary.psql("create table t (x int); insert into t values (42)")
        let pid = try #require(primary.postmasterPID)

        try primary.kill()
        #expect(!Postmaster.isAlive(pid))
        #expect(!primary.isRunning)
        #expect(throws: HarnessError.self) { try primary.psql("select 1") }

        try primary.start()
        #expect(try primary.psql("select x from t") == "42")
        #expect(primary.postmasterPID != pid)
    }

    @Test("a standby made outside the harness is found and stopped by close()")
    func closeStopsServersStartedByOthers() throws {
        let workspace = try TestWorkspace(name: "harness-standby")
        defer { workspace.close() }
        let primary = try workspace.startPrimary(name: "node1")
        let standbyDirectory = workspace.dataDirectoryPath(name: "node2")
        #expect(!FileManager.default.fileExists(atPath: standbyDirectory))
        if let user = workspace.serverUser {
            #expect(try owner(of: (standbyDirectory as NSString).deletingLastPathComponent) == user)
        }

        // What `keel standby clone` + `keel node service --action=start` would do.
        try workspace.run(
            "pg_basebackup", ["-d", primary.conninfo(), "-D", standbyDirectory, "-X", "stream", "-R", "--no-sync"]
        ).requireSuccess()
        let port = try workspace.freePort()
        #expect(port != primary.port)
        let standby = workspace.server(name: "node2", port: port)
        try standby.appendConfiguration("port = \(port)")
        try workspace.run(
            "pg_ctl", ["start", "-D", standbyDirectory, "-l", standby.logFile, "-w", "-t", "60"]
        ).requireSuccess()

        #expect(try standby.psql("select pg_is_in_recovery()") == "t")
        _ = try primary.psql("create table replicated (x int); insert into replicated values (7)")
        try waitFor("the row to reach the standby", timeout: 30) {
            try standby.psql("select count(*) from pg_tables where tablename = 'replicated'") == "1"
        }
        #expect(try primary.psql("select count(*) from pg_stat_replication") == "1")

        let pids = [try #require(primary.postmasterPID), try #require(standby.postmasterPID)]
        #expect(Set(workspace.dataDirectoriesWithPostmasterPID())
            == Set([primary.dataDirectory, standbyDirectory]))
        workspace.close()
        for pid in pids { #expect(!Postmaster.isAlive(pid)) }
    }

    @Test("run captures output and status, and kills a command that outlives its timeout")
    func runCommands() throws {
        let workspace = try TestWorkspace(name: "harness-run")
        defer { workspace.close() }

        let result = try workspace.run(
            "/bin/sh", ["-c", "echo out; echo err >&2; echo $KEEL_X; pwd; exit 3"], environment: ["KEEL_X": "y"])
        #expect(result.status == 3)
        #expect(result.stdout == "out\ny\n\(workspace.path)\n")
        #expect(result.stderr == "err\n")
        #expect(throws: HarnessError.self) { try result.requireSuccess() }

        // More output than a pipe buffer holds, on both streams.
        let big = try workspace.run("/bin/sh", ["-c", "head -c 300000 /dev/zero | tr '\\0' a; head -c 200000 /dev/zero | tr '\\0' b >&2"])
        #expect(big.stdout.count == 300_000)
        #expect(big.stderr.count == 200_000)

        let clock = ContinuousClock()
        let started = clock.now
        #expect(throws: HarnessError.self) {
            try workspace.run("/bin/sh", ["-c", "echo partial; sleep 60"], timeout: 0.5)
        }
        #expect(clock.now - started < .seconds(20))

        // pg_ctl comes from the run's PostgreSQL (KEEL_PG_BINDIR), of the version its postgres reports.
        let version = try #require(TestPostgres.majorVersion, "cannot read the version of \(TestPostgres.binDirectory)/postgres")
        #expect(TestPostgres.parseMajorVersion(try workspace.run("pg_ctl", ["--version"]).stdout) == version)

        // Children start with no blocked signals, even when spawned from a worker thread.
        let mask = try workspace.run("/bin/sh", ["-c", "grep SigBlk /proc/self/status"]).stdout
        #expect(mask.trimmingCharacters(in: .whitespacesAndNewlines) == "SigBlk:\t0000000000000000")
    }

    @Test("background processes are stopped by terminate() and by close()")
    func backgroundProcesses() throws {
        let workspace = try TestWorkspace(name: "harness-spawn")
        defer { workspace.close() }
        let first = try workspace.spawn("/bin/sh", ["-c", "echo started; exec sleep 300"], name: "first")
        try waitFor("first to write its output") { first.output().contains("started") }
        #expect(first.isRunning)
        // 143 = 128 + SIGTERM: the command honoured SIGTERM (137 would mean it needed SIGKILL).
        #expect(first.terminate(timeout: 10) == 143)
        #expect(!first.isRunning)

        let second = try workspace.spawn("/bin/sh", ["-c", "echo started; exec sleep 300"], name: "second")
        try waitFor("second to write its output") { second.output().contains("started") }
        workspace.close()
        #expect(!second.isRunning)
    }

    @Test("files, ports and waiting")
    func helpers() throws {
        let workspace = try TestWorkspace(name: "harness-helpers")
        defer { workspace.close() }

        let path = try workspace.writeFile("conf/keel.conf", "node_id=1\n")
        #expect(path == workspace.path + "/conf/keel.conf")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "node_id=1\n")
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        if let user = workspace.serverUser {
            #expect(try owner(of: path) == user)
            #expect(try workspace.run("cat", [path]).stdout == "node_id=1\n")
        }
        #expect(throws: HarnessError.self) { try workspace.writeFile("../escape", "x") }

        let ports = try (0..<20).map { _ in try workspace.freePort() }
        #expect(Set(ports).count == ports.count)

        var polls = 0
        try waitFor("three polls", interval: 0.01) {
            polls += 1
            return polls == 3
        }
        #expect(polls == 3)
        #expect(throws: TimeoutError.self) {
            try waitFor("never", timeout: 0.2, interval: 0.05) { false }
        }
        #expect(PackageLocator.packageRoot().map { FileManager.default.fileExists(atPath: $0 + "/Package.swift") } == true)
    }

    @Test(
        "keel binaries are staged for the server user",
        .enabled(if: (try? PackageLocator.keelBinaryDirectory()).map {
            FileManager.default.isExecutableFile(atPath: $0 + "/keel")
                && FileManager.default.isExecutableFile(atPath: $0 + "/keeld")
        } == true)
    )
    func stagedBinaries() throws {
        let workspace = try TestWorkspace(name: "harness-bin")
        defer { workspace.close() }
        let bin = try workspace.stageKeelBinaries()
        #expect(FileManager.default.isExecutableFile(atPath: bin + "/keel"))
        #expect(FileManager.default.isExecutableFile(atPath: bin + "/keeld"))
        if let user = workspace.serverUser {
            #expect(try owner(of: bin + "/keel") == user)
        }
        // A bare name resolves to the staged binary, which the server user can execute.
        let help = try workspace.run("keel", ["--help"])
        #expect(help.succeeded, "\(help)")
    }
}
