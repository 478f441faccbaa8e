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

extension NodeCheck {
    /// What the checks about this host read: the server's data directory, this node's keeld row and the
    /// owners of the data directory and of `postgresql.auto.conf`.
    public struct LocalFacts: Sendable, Equatable {
        /// `SHOW data_directory`; `nil` when the role may not read it.
        public var serverDataDirectory: String?
        /// This node's row of `repmgr.keel_daemon`.
        public var daemon: DaemonRecord?
        /// Owner uid of the data directory and of `postgresql.auto.conf`; `nil` when they cannot be read.
        public var dataDirectoryOwner: UInt32?
        public var autoConfOwner: UInt32?

        public init(serverDataDirectory: String? = nil, daemon: DaemonRecord? = nil, dataDirectoryOwner: UInt32? = nil,
                    autoConfOwner: UInt32? = nil) {
            self.serverDataDirectory = serverDataDirectory
            self.daemon = daemon
            self.dataDirectoryOwner = dataDirectoryOwner
            self.autoConfOwner = autoConfOwner
        }
    }

    /// Reads the local facts (each `nil` when it cannot be read).
    func localFacts(_ conn: Connection) -> LocalFacts {
        let directory = context.config.dataDirectory
        func owner(_ path: String) -> UInt32? {
            var info = stat()
            return stat(path, &info) == 0 ? info.st_uid : nil
        }
        return LocalFacts(
            serverDataDirectory: (try? conn.queryRow("SELECT pg_catalog.current_setting('data_directory') AS d"))??.string("d"),
            daemon: (try? MetadataStore(connection: conn).daemonRecords())?.first { $0.nodeID == context.config.nodeID },
            dataDirectoryOwner: owner(directory), autoConfOwner: owner(directory + "/postgresql.auto.conf"))
    }

    /// The checks about this host (pure). `--repmgrd` counts keeld as running when its heartbeat is at most
    /// 3 × `monitor_interval_secs` (and 10 s) old, as `service status` does; paused is a WARNING.
    static func evaluateLocal(_ kind: Kind, _ o: Observation, config: KeelConfig) -> Result {
        let facts = o.local
        switch kind {
        case .dataDirectoryConfig:
            guard let actual = facts.serverDataDirectory else {
                return Result(kind, .unknown, "the server's data_directory cannot be read (superuser or pg_read_all_settings needed)")
            }
            func trimmed(_ path: String) -> Substring { path.count > 1 && path.hasSuffix("/") ? path.dropLast() : Substring(path) }
            if trimmed(actual) == trimmed(config.dataDirectory) {
                return Result(kind, .ok, "configured \"data_directory\" is \"\(config.dataDirectory)\"")
            }
            return Result(kind, .critical, "configured \"data_directory\" is \"\(config.dataDirectory)\"; the server's is \"\(actual)\"")
        case .repmgrd:
            let fresh = Double(max(3 * config.monitorIntervalSecs, 10))
            guard let d = facts.daemon, let pid = d.pid, (d.secondsSinceHeartbeat ?? .infinity) <= fresh else {
                return Result(kind, .critical, "keeld is not running")
            }
            if d.paused { return Result(kind, .warning, "keeld is running (PID \(pid)) but paused") }
            return Result(kind, .ok, "keeld is running (PID \(pid))")
        case .dbConnection:
            return Result(kind, .ok, "connection to the database succeeded")
        default:
            guard let dir = facts.dataDirectoryOwner, let file = facts.autoConfOwner else {
                return Result(kind, .unknown, "the owner of \"\(config.dataDirectory)/postgresql.auto.conf\" cannot be read on this host")
            }
            if dir == file { return Result(kind, .ok, "\"postgresql.auto.conf\" is owned by the data directory's owner") }
            return Result(kind, .critical, "\"postgresql.auto.conf\" is owned by uid \(file), the data directory by uid \(dir)")
        }
    }
}
