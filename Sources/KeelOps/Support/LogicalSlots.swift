#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres
import Logging

/// The effects of `logical_slot_failover` (PostgreSQL 17+; the decisions are `LogicalSlotFailover`'s):
/// the standby settings clone, follow and rejoin write, the primary's `synchronized_standby_slots`, and
/// reading the failover logical slots a server holds.
public enum LogicalSlots {
    /// The major version of the data directory (`PG_VERSION`, e.g. 18), `nil` when unreadable.
    public static func majorVersion(dataDirectory: String) -> Int? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/PG_VERSION", encoding: .utf8) else { return nil }
        return Int(text.trimmingWhitespace())
    }

    /// The slot-sync settings a standby with `config` needs (`sync_replication_slots`, `hot_standby_feedback`):
    /// none unless `logical_slot_failover` is on and the data directory is PostgreSQL 17+; a warning when the
    /// key is on for an older server.
    public static func standbySettings(config: KeelConfig, logger: Logger) -> [(name: String, value: String)] {
        guard config.logicalSlotFailover else { return [] }
        let major = majorVersion(dataDirectory: config.dataDirectory)
        let settings = LogicalSlotFailover.standbySettings(serverVersionNum: major.map { $0 * 10000 })
        if settings.isEmpty {
            logger.warning("logical_slot_failover needs PostgreSQL 17 or later; the data directory \"\(config.dataDirectory)\" is version \(major.map(String.init) ?? "unknown"): no slot sync configured")
        }
        return settings
    }

    /// The failover logical slots `connection`'s server holds, with their `confirmed_flush_lsn`: on a standby
    /// the synced ones, on a primary every `failover` slot; never invalidated ones. `nil` below PostgreSQL 17
    /// or when the query fails.
    public static func failoverSlots(_ connection: Connection) -> [String: LSN]? {
        guard let rows = try? connection.query("""
            SELECT slot_name, confirmed_flush_lsn FROM pg_catalog.pg_replication_slots
             WHERE slot_type = 'logical' AND failover AND invalidation_reason IS NULL
               AND (synced OR NOT pg_catalog.pg_is_in_recovery())
            """) else { return nil }
        var slots: [String: LSN] = [:]
        for row in rows {
            if let name = row.string("slot_name") { slots[name] = row.lsn("confirmed_flush_lsn") ?? .zero }
        }
        return slots
    }

    /// On a primary with `logical_slot_failover`: sets `synchronized_standby_slots` to the physical slots of
    /// the standbys that may be promoted (see `LogicalSlotFailover.synchronizedStandbySlots`) when it differs,
    /// with ALTER SYSTEM and a reload. Returns the new value when it changed, `nil` otherwise (also on error,
    /// which is logged).
    @discardableResult
    public static func keepSynchronizedStandbySlots(_ connection: Connection, config: KeelConfig, nodes: [NodeRecord],
                                                    logger: Logger) -> String? {
        guard config.logicalSlotFailover else { return nil }
        do throws(PostgresError) {
            guard let row = try connection.queryRow("""
                SELECT pg_catalog.current_setting('server_version_num')::int AS version,
                       pg_catalog.current_setting('synchronized_standby_slots', true) AS current
                """), (row.int("version") ?? 0) >= LogicalSlotFailover.minimumServerVersion else { return nil }
            let existing = Set(try connection.query("SELECT slot_name FROM pg_catalog.pg_replication_slots WHERE slot_type = 'physical'")
                .compactMap { $0.string("slot_name") })
            let wanted = LogicalSlotFailover.synchronizedStandbySlots(primaryID: config.nodeID, nodes: nodes, existingSlots: existing)
            guard wanted != (row.string("current") ?? "") else { return nil }
            let literal = try connection.queryRow("SELECT pg_catalog.quote_literal($1) AS q", [wanted])?.string("q") ?? "''"
            try connection.query("ALTER SYSTEM SET synchronized_standby_slots = \(literal)")
            try connection.query("SELECT pg_catalog.pg_reload_conf()")
            logger.notice("synchronized_standby_slots set to '\(wanted)' (logical_slot_failover)")
            return wanted
        } catch {
            logger.warning("unable to set synchronized_standby_slots: \(error)")
            return nil
        }
    }
}
