#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// A sandbox's description, `DIR/sandbox.json`: every node with its role, port and files, so that
/// `keel sandbox start|stop|status|destroy DIR` find what `create` made.
public struct SandboxManifest: Codable, Sendable, Equatable {
    /// One node of the sandbox.
    public struct Node: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        /// `primary`, `standby` or `witness`, as created.
        public var role: String
        public var port: Int
        public var location: String
        /// `DIR/<name>`, holding `data/`, `keel.conf`, `postgres.log`, `keeld.log`, `keeld.pid`.
        public var directory: String

        public var dataDirectory: String { directory + "/data" }
        public var configFile: String { directory + "/keel.conf" }
        public var pidFile: String { directory + "/keeld.pid" }
        public var serverLog: String { directory + "/postgres.log" }
        public var keeldLog: String { directory + "/keeld.log" }
    }

    public var directory: String
    public var pgBindir: String
    public var nodes: [Node]
    /// The etcd members of `--dcs etcd` (`nil`: none).
    public var etcd: [SandboxEtcd.Member]?

    static func path(in directory: String) -> String { directory + "/sandbox.json" }

    /// Reads `DIR/sandbox.json` for its list of nodes only: every path is derived from `directory` (each
    /// node's is `DIR/<name>`, its name one a sandbox creates), and `pgBindir` from the `pg_bindir` of the
    /// nodes' own `keel.conf` (else where PostgreSQL's programs are found), never from the file. Throws
    /// `KeelError` 1 when DIR is not a sandbox, or a file in it is not the user's own.
    public static func load(from directory: String) throws -> SandboxManifest {
        let path = Self.path(in: directory)
        try SandboxDirectory.checkTrustedFile(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeelError(.badConfig, "\"\(directory)\" is not a Keel sandbox (no sandbox.json)",
                            hint: "create one with \"keel sandbox create \(directory)\"")
        }
        let stored: SandboxManifest
        do {
            stored = try JSONDecoder().decode(SandboxManifest.self, from: data)
        } catch {
            throw KeelError(.badConfig, "\"\(path)\" cannot be read", detail: "\(error)")
        }
        var nodes: [Node] = []
        for var node in stored.nodes {
            guard SandboxDirectory.isNodeName(node.name), !nodes.contains(where: { $0.name == node.name }) else {
                throw KeelError(.badConfig, "\"\(path)\" names a node \"\(node.name)\" that a sandbox does not create")
            }
            node.directory = directory + "/" + node.name
            nodes.append(node)
        }
        return SandboxManifest(directory: directory, pgBindir: try Self.bindir(of: nodes), nodes: nodes, etcd: stored.etcd)
    }

    /// The `pg_bindir` of the first node's `keel.conf` (checked to be the user's own), else the directory
    /// holding PostgreSQL's programs.
    static func bindir(of nodes: [Node]) throws -> String {
        var configured: String?
        if let first = nodes.first, FileManager.default.fileExists(atPath: first.configFile) {
            try SandboxDirectory.checkTrustedFile(first.configFile)
            configured = (try? KeelConfig.load(path: first.configFile))?.pgBindir
        }
        return try SandboxCreate.findBindir(configured.flatMap { $0.isEmpty ? nil : $0 })
    }

    func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: Self.path(in: directory)))
    }
}
