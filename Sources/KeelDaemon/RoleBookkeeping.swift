#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelOps
import KeelPostgres

/// What keeld records after a Lua `promote_command` or `follow_command` returned `true`, as repmgr's own
/// `standby promote` / `standby follow` would have (a shell `promote_command` is expected to be such a
/// command and to record this itself).
enum RoleBookkeeping {
    /// Polls the local server every `promote_check_interval` seconds until it leaves recovery, for up to
    /// `timeout` seconds; returns a connection to it once it has, `nil` otherwise.
    static func waitForPromotion(runtime: DaemonRuntime, timeout: Double) async -> Connection? {
        let config = runtime.config
        let deadline = runtime.now + timeout
        let interval = Double(max(1, config.int("promote_check_interval")))
        while true {
            if let conn = runtime.tryConnect(config.conninfo), (try? ServerInfo.read(conn))?.isInRecovery == false {
                return conn
            }
            if runtime.now >= deadline { return nil }
            try? await runtime.sleep(min(interval, 0.2))
        }
    }

    /// On the new primary (this node, `connection`): this node's record becomes the primary, every other
    /// active primary's record inactive (`MetadataStore.markPromoted`), the voting term is incremented, and
    /// event `standby_promote` is recorded and notified (queued). Failures are logged.
    static func promoted(runtime: DaemonRuntime, on connection: Connection, formerPrimary: NodeRecord?) {
        let config = runtime.config
        let store = MetadataStore(connection: connection)
        do {
            let demoted = try store.markPromoted(nodeID: config.nodeID)
            let term = try store.incrementVotingTerm()
            for id in demoted { runtime.logger.info("node (ID: \(id)) is now marked inactive") }
            runtime.logger.info("\(config.nodeLabel) recorded as the primary (voting term \(term.map(String.init) ?? "?"))")
        } catch {
            runtime.logger.error("unable to record the promotion in the metadata: \(error)")
        }
        runtime.event(.standbyPromote, details: "server \"\(config.nodeName)\" (ID: \(config.nodeID)) was successfully promoted to primary",
                      on: connection, primary: formerPrimary)
    }

    /// On the primary: this standby's record now follows `upstreamID` (`MetadataStore.markFollowing`); event
    /// `standby_follow` with `%p %c %a` = the followed node. Failures are logged.
    static func followed(runtime: DaemonRuntime, upstream: NodeRecord?, upstreamID: Int) {
        let config = runtime.config
        let primary = upstream.flatMap { runtime.tryConnect($0.conninfo) }
            ?? runtime.tryConnect(config.conninfo).flatMap { local in
                PrimaryFinder.find(((try? MetadataStore(connection: local).nodes()) ?? []).filter { $0.nodeID != config.nodeID }, deadlines: runtime.deadlines)?.1
            }
        guard let primary else {
            runtime.logger.error("unable to record the new upstream of node \(config.nodeID): no primary answers")
            return
        }
        do {
            if try !MetadataStore(connection: primary).markFollowing(nodeID: config.nodeID, upstreamNodeID: upstreamID) {
                runtime.logger.warning("node \(config.nodeID) has no record on the primary; its upstream was not recorded")
            }
        } catch {
            runtime.logger.error("unable to record the new upstream in the metadata: \(error)")
        }
        let name = upstream?.nodeName ?? "?"
        runtime.event(.standbyFollow, details: "standby attached to upstream node \"\(name)\" (ID: \(upstreamID))",
                      on: primary, primary: upstream)
    }
}
