import Foundation
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

    static func path(in directory: String) -> String { directory + "/sandbox.json" }

    /// Reads `DIR/sandbox.json`. Throws `KeelError` 1 when DIR is not a sandbox.
    public static func load(from directory: String) throws -> SandboxManifest {
        let path = Self.path(in: directory)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeelError(.badConfig, "\"\(directory)\" is not a Keel sandbox (no sandbox.json)",
                            hint: "create one with \"keel sandbox create \(directory)\"")
        }
        do {
            return try JSONDecoder().decode(SandboxManifest.self, from: data)
        } catch {
            throw KeelError(.badConfig, "\"\(path)\" cannot be read", detail: "\(error)")
        }
    }

    func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: Self.path(in: directory)))
    }
}
