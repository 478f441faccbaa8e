#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// What keeld must not forget across a restart (a crash, SIGTERM, a reboot): kept in a small file
/// (`keeld.facts`, mode 0600, in the data directory) rather than in memory. Today one fact: the
/// `primary_conninfo` this keeld cleared to stop the WAL receiver (`standby_disconnect_on_failover`),
/// so that a keeld restarted in that window restores it instead of leaving the standby detached.
///
/// `nodeID` guards against a file copied along with the data directory (a clone, a rewind): facts
/// of another node are ignored.
public struct DaemonFacts: Codable, Sendable, Equatable {
    /// The node the facts belong to.
    public var nodeID: Int
    /// The `primary_conninfo` to put back (it may hold a password: hence the file's mode).
    public var stoppedWALReceiverConninfo: String?

    /// Facts for `nodeID`.
    public init(nodeID: Int, stoppedWALReceiverConninfo: String? = nil) {
        self.nodeID = nodeID
        self.stoppedWALReceiverConninfo = stoppedWALReceiverConninfo
    }

    /// True when there is nothing to remember (the file can go).
    public var isEmpty: Bool { stoppedWALReceiverConninfo == nil }

    /// The file's content: JSON with sorted keys.
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }

    /// Reads the file's content. Throws `KeelError` (`badConfig`) naming `path` when it is not valid.
    public static func decode(_ data: Data, path: String) throws -> DaemonFacts {
        do {
            return try JSONDecoder().decode(DaemonFacts.self, from: data)
        } catch {
            throw KeelError(.badConfig, "unable to read keeld's facts file \"\(path)\"",
                            detail: "\(error)", hint: "remove the file; keeld then starts without remembered facts")
        }
    }
}
