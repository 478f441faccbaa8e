import Foundation
import KeelTesting

/// A workspace with staged keel binaries and helpers to write node configurations in the shape of the
/// repmgr deployment guide (`Tests/Fixtures/deployment-guide.conf`, with its comments, escaped quotes and
/// commented-out keys), run `keel` as the server user, and start cloned standbys.
final class ClusterFixture {
    let workspace: TestWorkspace

    init(_ name: String) throws {
        workspace = try TestWorkspace(name: name)
        _ = try workspace.stageKeelBinaries()
    }

    deinit { workspace.close() }

    /// The guide's repmgr.conf, read from the repository's `Tests/Fixtures`. A missing fixture stops the
    /// test run with a message naming the file: a test on an empty configuration would prove nothing.
    static let guideConfig: String = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/deployment-guide.conf").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            fatalError("test fixture missing or unreadable: \(path)")
        }
        return text
    }()

    /// Writes `<name>.conf` from the guide's file with this node's identity, conninfo, data directory and
    /// binaries substituted line by line (every other line, comment and escaped quote stays as the guide
    /// wrote it), plus `extra` lines. Returns the path.
    @discardableResult
    func writeConfig(id: Int, name: String, port: Int, dataDirectory: String, extraConninfo: String = "",
                     location: String = "location1", extra: String = "") throws -> String {
        let overrides: [String: String] = [
            "node_id": "\(id)",
            "node_name": "'\(name)'",
            "conninfo": "'host=127.0.0.1 port=\(port) user=repmgr dbname=repmgr connect_timeout=2\(extraConninfo)'",
            "data_directory": "'\(dataDirectory)'",
            "pg_bindir": "'\(workspace.postgresBinDirectory)'",
            "repmgr_bindir": "'\(workspace.binDirectory)'",
            "log_file": "'\(workspace.path)/\(name)-keel.log'",
            "location": "'\(location)'",
            "repmgrd_pid_file": "'\(workspace.path)/\(name)-keeld.pid'",
        ]
        var lines: [String] = []
        for line in Self.guideConfig.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let key = line.split(separator: "=", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if let value = overrides[key] {
                let comment = line.range(of: "#").map { "   " + line[$0.lowerBound...] } ?? ""
                lines.append("\(key)=\(value)\(comment)")
            } else {
                lines.append(line)
            }
        }
        lines.append(extra)
        return try workspace.writeFile("\(name).conf", lines.joined(separator: "\n") + "\n")
    }

    /// Runs `keel ARGS` as the server user.
    @discardableResult
    func keel(_ arguments: String..., timeout: Double = 180) throws -> ProcessResult {
        try workspace.run("keel", arguments, timeout: timeout)
    }

    func config(_ name: String) -> String { workspace.path + "/\(name).conf" }

    /// Starts a data directory made by `keel standby clone` on `port` (the clone copied the source's port).
    func startClone(name: String, port: Int) throws -> PostgresServer {
        let server = workspace.server(name: name, port: port, dataDirectory: workspace.dataDirectoryPath(name: name))
        try server.appendConfiguration("port = \(port)")
        try server.start()
        return server
    }
}
