#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KeelCore

/// The persisted fence: `keel.fence` in the data directory (JSON, mode 0600), written before the
/// first fencing step and removed when the fence ends, so that a keeld restart — or a server restarted
/// by hand — finds the node still fenced.
struct FenceStore {
    /// The file's name in the data directory.
    static let fileName = "keel.fence"

    /// The data directory.
    let dataDirectory: String

    var path: String { dataDirectory + "/" + Self.fileName }

    /// The fence this node set, or `nil` (no file, unreadable, or a copy made for another node).
    func load(nodeID: Int) -> FenceFact? {
        guard let data = FileManager.default.contents(atPath: path),
              let fact = try? JSONDecoder().decode(FenceFact.self, from: data), fact.nodeID == nodeID else { return nil }
        return fact
    }

    /// Writes `fact` atomically with mode 0600. Throws when the file cannot be written.
    func save(_ fact: FenceFact) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(fact)
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw KeelError(.systemFailure, "unable to write \"\(temporary)\"")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw KeelError(.systemFailure, "unable to write \"\(path)\": \(reason)")
        }
    }

    /// Removes the file (the fence ended).
    func clear() {
        unlink(path)
    }
}
