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

/// `keel sandbox start|stop|status|destroy DIR`: the servers and keelds of a sandbox made by
/// `keel sandbox create`. Every process is found by its data directory or pid file, never by name.
public struct SandboxControl {
    public enum Action: String, Sendable { case start, stop, status, destroy }

    public let directory: String
    public let logger: Logger
    public let output: @Sendable (String) -> Void

    public init(directory: String, logger: Logger, output: @escaping @Sendable (String) -> Void = { print($0) }) {
        self.directory = PathString.standardized(directory)
        self.logger = logger
        self.output = output
    }

    /// Runs `action`; returns the exit status (`status`: 25 when something is not running). Throws
    /// `KeelError` 1 when the directory is not the user's own (`SandboxDirectory.checkTrusted`).
    public func run(_ action: Action) async throws -> ExitStatus {
        let root = absolute(directory)
        try SandboxDirectory.checkTrusted(root)
        let manifest = try SandboxManifest.load(from: root)
        switch action {
        case .start:
            if let etcd = manifest.etcd { try await SandboxEtcd.start(etcd, sandbox: root) }
            for node in manifest.nodes { try await startServer(node, manifest: manifest) }
            for node in manifest.nodes { try await startDaemon(node) }
            logger.notice("sandbox \"\(manifest.directory)\" started")
            return .success
        case .stop:
            await stopAll(manifest)
            logger.notice("sandbox \"\(manifest.directory)\" stopped")
            return .success
        case .destroy:
            await stopAll(manifest)
            try FileManager.default.removeItem(atPath: root)
            logger.notice("sandbox \"\(manifest.directory)\" destroyed")
            return .success
        case .status:
            var rows: [[String]] = []
            var allUp = true
            for node in manifest.nodes {
                let pg = DataDirectory(node.dataDirectory).runningPostmasterPID
                let daemon = PidFile(path: node.pidFile).runningPID()
                if pg == nil || daemon == nil { allUp = false }
                rows.append([String(node.id), node.name, node.role, String(node.port), pg.map { "running (\($0))" } ?? "stopped",
                             daemon.map { "running (\($0))" } ?? "stopped", node.configFile])
            }
            for m in manifest.etcd ?? [] {
                let pid = SandboxEtcd.runningPID(m, sandbox: root)
                if pid == nil { allUp = false }
                rows.append(["", "etcd " + m.name, "etcd member", String(m.clientPort), pid.map { "running (\($0))" } ?? "stopped", "", ""])
            }
            output(TextTable(headers: ["ID", "Name", "Created as", "Port", "PostgreSQL", "keeld", "Configuration"], rows: rows).render())
            return allUp ? .success : .nodeStatus
        }
    }

    func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// Starts the node's PostgreSQL (`pg_ctl -w start`, log in `postgres.log`) unless it runs.
    func startServer(_ node: SandboxManifest.Node, manifest: SandboxManifest) async throws {
        guard DataDirectory(node.dataDirectory).runningPostmasterPID == nil else { return }
        let pgCtl = manifest.pgBindir + "/pg_ctl"
        let result = try await ProcessRunner.run(pgCtl, ["-w", "-D", node.dataDirectory, "-l", node.serverLog, "start"], timeout: 120)
        guard result.succeeded else {
            throw KeelError(.localCommand, "unable to start PostgreSQL of \"\(node.name)\"",
                            detail: (result.stdout + result.stderr).trimmingWhitespace(), hint: "see \(node.serverLog)")
        }
    }

    /// Starts the node's keeld in the background (`keeld -f keel.conf -d`) unless it runs, and waits for its pid file.
    func startDaemon(_ node: SandboxManifest.Node) async throws {
        let pidFile = PidFile(path: node.pidFile)
        guard pidFile.runningPID() == nil else { return }
        let keeld = Self.siblingBinary("keeld")
        let result = try await ProcessRunner.run(keeld, ["-f", node.configFile, "-d"], timeout: 30)
        guard result.succeeded else {
            throw KeelError(.daemonService, "unable to start keeld for \"\(node.name)\"", detail: result.stderr)
        }
        let deadline = Date().addingTimeInterval(15)
        while pidFile.runningPID() == nil {
            guard Date() < deadline else { throw KeelError(.daemonService, "keeld of \"\(node.name)\" did not start", hint: "see \(node.keeldLog)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Stops every keeld (SIGTERM, then SIGKILL after 10 s) and every server (`pg_ctl stop -m fast`, then immediate).
    func stopAll(_ manifest: SandboxManifest) async {
        for node in manifest.nodes {
            guard let pid = PidFile(path: node.pidFile).runningPID() else { continue }
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while PidFile(path: node.pidFile).runningPID() != nil, Date() < deadline { try? await Task.sleep(for: .milliseconds(100)) }
            if PidFile(path: node.pidFile).runningPID() != nil { kill(pid, SIGKILL) }
        }
        for node in manifest.nodes where DataDirectory(node.dataDirectory).runningPostmasterPID != nil {
            let pgCtl = manifest.pgBindir + "/pg_ctl"
            let fast = try? await ProcessRunner.run(pgCtl, ["-w", "-D", node.dataDirectory, "-m", "fast", "stop"], timeout: 60)
            if fast?.succeeded != true {
                _ = try? await ProcessRunner.run(pgCtl, ["-w", "-D", node.dataDirectory, "-m", "immediate", "stop"], timeout: 30)
            }
        }
        if let etcd = manifest.etcd { await SandboxEtcd.stop(etcd, sandbox: absolute(manifest.directory)) }
    }

    /// A program beside this `keel` binary (`keeld`).
    static func siblingBinary(_ name: String) -> String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(name).path
    }
}
