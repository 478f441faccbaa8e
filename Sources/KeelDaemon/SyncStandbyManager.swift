import KeelCore
import KeelOps
import KeelPostgres

/// `synchronous_mode` on the primary: each round keeps `synchronous_standby_names` in step with the
/// standbys streaming from this primary, one `SyncPlan` step at a time (record before widening, narrow
/// the record only once the narrower quorum holds everything), through `ALTER SYSTEM` + `pg_reload_conf()`
/// on the local connection (every statement bounded by its deadlines), with a `sync_standbys_changed`
/// event when the setting changes. Decides nothing itself.
final class SyncStandbyManager {
    private let runtime: DaemonRuntime
    /// While the applied quorum is narrower than the record: that quorum and the WAL position taken one
    /// round after it was applied (every WAL sender has reloaded by then). The record narrows once the
    /// quorum flushed past it.
    private var narrowing: (set: SyncSet, lsn: LSN)?

    init(runtime: DaemonRuntime) {
        self.runtime = runtime
    }

    /// What one round reads on the primary.
    private struct Observation {
        var healthy: Set<Int> = []
        var flushed: [Int: LSN] = [:]
        var setting = ""
        var lsn = LSN.zero
    }

    /// One round: at most one record write and one change of the setting.
    func round(local: Connection, nodes: [NodeRecord]) {
        let config = runtime.config
        let mode = config.synchronousMode
        guard mode != .off else { return }
        let standbys = nodes.filter { $0.type == .standby && $0.active && $0.nodeID != config.nodeID }
        var ids: [String: Int] = [:]
        var names: [Int: String] = [:]
        for node in standbys { (ids[node.nodeName], names[node.nodeID]) = (node.nodeID, node.nodeName) }
        let store = MetadataStore(connection: local)
        let record: SyncRecord?
        do {
            record = try store.syncRecord()
        } catch {
            runtime.logger.warning("synchronous_mode: unable to read the recorded quorum: \(error.message)")
            return
        }
        guard let seen = observe(local, ids: ids) else {
            runtime.logger.warning("synchronous_mode: unable to read pg_stat_replication or synchronous_standby_names")
            return
        }
        let applied = SyncStandbyNames.parse(seen.setting, ids: ids)
        let desired = SyncPlan.desired(mode: mode, strict: config.synchronousModeStrict, healthy: seen.healthy,
                                       applied: applied, registered: Set(standbys.map(\.nodeID)))
        var verified = false
        if let pending = narrowing, pending.set == desired {
            verified = SyncPlan.holdsAll(desired, before: pending.lsn, flushed: seen.flushed)
        }
        var step = SyncPlan.next(record: record, applied: applied, desired: desired, narrowingVerified: verified)
        if case .widenRecord(let wider) = step {
            guard write(wider, store: store, why: "before asking for \(SyncStandbyNames.render(desired, names: names))") else { return }
            step = SyncPlan.next(record: wider, applied: applied, desired: desired, narrowingVerified: false)
        }
        switch step {
        case .apply(let set):
            narrowing = nil
            apply(set, over: seen.setting, local: local, names: names, healthy: seen.healthy)
        case .awaitNarrowing:
            if narrowing?.set != desired { narrowing = (desired, seen.lsn) }
        case .narrowRecord(let narrower):
            if write(narrower, store: store, why: "\(SyncStandbyNames.render(desired, names: names)) holds every commit acknowledged before") {
                narrowing = nil
            }
        case .none, .widenRecord:
            break
        }
    }

    private func observe(_ local: Connection, ids: [String: Int]) -> Observation? {
        guard let rows = try? local.query("SELECT application_name, state, flush_lsn FROM pg_catalog.pg_stat_replication"),
              let row = try? local.queryRow("""
                  SELECT pg_catalog.current_setting('synchronous_standby_names') AS setting,
                         pg_catalog.pg_current_wal_lsn() AS lsn
                  """) else { return nil }
        var seen = Observation(setting: row.string("setting") ?? "", lsn: row.lsn("lsn") ?? .zero)
        for replication in rows {
            guard let name = replication.string("application_name"), let id = ids[name] else { continue }
            if replication.string("state") == "streaming" { seen.healthy.insert(id) }
            if let flushed = replication.lsn("flush_lsn") { seen.flushed[id] = max(flushed, seen.flushed[id] ?? .zero) }
        }
        return seen
    }

    /// Writes `record`; the commit returns once the quorum in force holds it. False (logged) on failure.
    private func write(_ record: SyncRecord, store: MetadataStore, why: String) -> Bool {
        do {
            try store.writeSyncRecord(record)
            runtime.logger.notice("synchronous_mode: recorded quorum \(record) (\(why))")
            return true
        } catch {
            runtime.logger.error("synchronous_mode: unable to record quorum \(record): \(error.message); trying again next round")
            return false
        }
    }

    private func apply(_ set: SyncSet, over previous: String, local: Connection, names: [Int: String], healthy: Set<Int>) {
        let value = SyncStandbyNames.render(set, names: names)
        do {
            try local.query("ALTER SYSTEM SET synchronous_standby_names = " + SQLLiteral.string(value))
            try local.query("SELECT pg_catalog.pg_reload_conf()")
        } catch {
            runtime.logger.error("synchronous_mode: unable to set synchronous_standby_names to '\(value)': \(error.message)")
            return
        }
        let streaming = healthy.sorted().compactMap { names[$0] }.map { "\"\($0)\"" }.joined(separator: ", ")
        let details = "synchronous_standby_names changed from '\(previous)' to '\(value)' (synchronous_mode=\(runtime.config.synchronousMode), "
            + "strict=\(runtime.config.synchronousModeStrict ? "on" : "off"); streaming: \(streaming.isEmpty ? "none" : streaming))"
        runtime.logger.notice("\(details)")
        runtime.eventOffLoop(.syncStandbysChanged, details: details)
    }

    /// On a standby in synchronous mode: an inherited `synchronous_standby_names` (a clone or a pg_rewind
    /// copies `postgresql.auto.conf`) is cleared, so that a promotion starts asynchronous and the new
    /// primary's keeld sets the quorum; left as it was, commits would wait for standbys that are gone.
    static func clearOnStandby(_ local: Connection, runtime: DaemonRuntime) {
        guard runtime.config.synchronousMode != .off,
              let setting = try? local.queryRow("SELECT pg_catalog.current_setting('synchronous_standby_names') AS s")?.string("s"),
              !setting.isEmpty else { return }
        do {
            try local.query("ALTER SYSTEM RESET synchronous_standby_names")
            try local.query("SELECT pg_catalog.pg_reload_conf()")
            runtime.logger.notice("synchronous_mode: cleared synchronous_standby_names '\(setting)' inherited by this standby")
        } catch {
            runtime.logger.warning("synchronous_mode: unable to clear synchronous_standby_names on this standby: \(error.message)")
        }
    }
}
