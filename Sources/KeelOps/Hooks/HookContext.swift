#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelLua

/// The tables passed to Lua hooks (the README's "Hook contexts"), and the shell placeholders derived from
/// the same table, so both kinds of hook see the same facts.
///
/// | point | table | shell placeholders |
/// |---|---|---|
/// | failover validation | `node_id, node_name, candidates = {{node_id, node_name, lsn, priority, location, lag_bytes}…}, visible, total, shared_upstream, lsn, term, lag_bytes` | `%n %a %v %u %t` |
/// | promote | `node_id, node_name, upstream_id` (the lost primary), `term`, `data_directory` | – |
/// | follow | `node_id, node_name, upstream_id` (the node to follow), `upstream_name`, `upstream_conninfo` (masked), `former_upstream_id` | `%n` = `upstream_id` |
/// | event notification | `node_id, node_name, event, success, timestamp, details, primary_id, primary_name, conninfo` (the primary's, masked) | `%n %e %s %t %d %p %c %a` |
/// | child nodes disconnect | `node_id, node_name, details` | `%p` = `node_id` |
/// | fence | `node_id, node_name, reason` (`isolated` or `former_primary`), `action` (`demote` or `stop`), `details`, `timeline`, `term` | `%n %a %d` |
/// | service_*_command | `node_id, node_name, action, data_directory` | – |
public enum HookContext {
    /// Failover validation, from the state machine's `ValidationContext`. `referenceLSN` is the most advanced
    /// position seen in the election (every reachable node's, not only the candidates'); `lag_bytes` (this
    /// node's, and each candidate's) is how far behind it a node is.
    public static func validation(_ c: ValidationContext, referenceLSN: LSN? = nil) -> LuaValue {
        let reference = (c.candidates.compactMap(\.lastReceivedLSN) + [referenceLSN, c.lsn].compactMap { $0 }).max()
        func lag(_ lsn: LSN?) -> LuaValue? {
            guard let reference, let lsn else { return nil }
            return .integer(Int64(clamping: reference.bytes(after: lsn)))
        }
        let candidates: [LuaValue] = c.candidates.map { peer in
            .fields([
                ("node_id", int(peer.nodeID)), ("node_name", .string(peer.name)),
                ("lsn", peer.lastReceivedLSN.map { .string($0.description) }), ("priority", int(peer.priority)),
                ("location", .string(peer.location)), ("lag_bytes", lag(peer.lastReceivedLSN)),
            ])
        }
        return .fields([
            ("node_id", int(c.nodeID)), ("node_name", c.nodeName.map(LuaValue.string)), ("candidates", .array(candidates)),
            ("visible", int(c.visible)), ("total", int(c.total)), ("shared_upstream", int(c.sharedUpstream)),
            ("lsn", c.lsn.map { .string($0.description) }), ("term", int(c.term)), ("lag_bytes", lag(c.lsn)),
        ])
    }

    /// Promotion of this node (`upstream_id` = the primary it replaced, when known).
    public static func promote(config: KeelConfig, formerPrimaryID: Int?, term: Int?) -> LuaValue {
        .fields([
            ("node_id", int(config.nodeID)), ("node_name", .string(config.nodeName)),
            ("upstream_id", formerPrimaryID.map(int)), ("term", term.map(int)),
            ("data_directory", .string(config.dataDirectory)),
        ])
    }

    /// This standby following `upstream`.
    public static func follow(config: KeelConfig, upstreamID: Int, upstream: NodeRecord?, formerUpstreamID: Int?) -> LuaValue {
        .fields([
            ("node_id", int(config.nodeID)), ("node_name", .string(config.nodeName)), ("upstream_id", int(upstreamID)),
            ("upstream_name", upstream.map { .string($0.nodeName) }),
            ("upstream_conninfo", upstream.map { .string(Conninfo.masked($0.conninfo)) }),
            ("former_upstream_id", formerUpstreamID.map(int)),
        ])
    }

    /// An event notification (`primary` = repmgr's `%p %c %a` node).
    public static func event(_ record: EventRecord, primary: NodeRecord?, config: KeelConfig) -> LuaValue {
        let name = record.nodeName ?? (record.nodeID == config.nodeID ? config.nodeName : nil)
        return .fields([
            ("node_id", int(record.nodeID)), ("node_name", name.map(LuaValue.string)), ("event", .string(record.event)),
            ("success", .boolean(record.successful)), ("timestamp", .string(record.timestamp)),
            ("details", .string(record.details)), ("primary_id", primary.map { int($0.nodeID) }),
            ("primary_name", primary.map { .string($0.nodeName) }),
            ("conninfo", primary.map { .string(Conninfo.masked($0.conninfo)) }),
        ])
    }

    /// `child_nodes_disconnect_command` on primary `config`'s node.
    public static func childNodesDisconnect(config: KeelConfig, details: String) -> LuaValue {
        .fields([("node_id", int(config.nodeID)), ("node_name", .string(config.nodeName)), ("details", .string(details))])
    }

    /// `fence_command`, after this node fenced itself as `fact` says.
    public static func fence(config: KeelConfig, fact: FenceFact) -> LuaValue {
        .fields([
            ("node_id", int(config.nodeID)), ("node_name", .string(config.nodeName)), ("reason", .string(fact.reason.rawValue)),
            ("action", .string(fact.action)), ("details", .string(fact.details)), ("timeline", int(fact.timeline)),
            ("term", fact.term.map(int)),
        ])
    }

    /// `service_<action>_command`.
    public static func service(config: KeelConfig, action: String) -> LuaValue {
        .fields([
            ("node_id", int(config.nodeID)), ("node_name", .string(config.nodeName)), ("action", .string(action)),
            ("data_directory", .string(config.dataDirectory)),
        ])
    }

    /// A made-up context for `keel hook test` when no `--context` file is given: this node's identity and
    /// sample values (a won election with 2 of 3 nodes visible; node 1 as the primary or upstream; a
    /// `keel_hook_test` event).
    public static func synthetic(for point: HookPoint, config: KeelConfig) -> LuaValue {
        let lsn = LSN(0x3000060)
        switch point {
        case .failoverValidation:
            let me = PeerView(nodeID: config.nodeID, name: config.nodeName, type: .standby, upstreamNodeID: 1,
                              location: config.location, priority: config.priority, reachable: true, isInRecovery: true,
                              lastReceivedLSN: lsn)
            return validation(ValidationContext(nodeID: config.nodeID, nodeName: config.nodeName, visible: 2,
                                                sharedUpstream: 2, total: 3, term: 2, lsn: lsn, candidates: [me]))
        case .promote:
            return promote(config: config, formerPrimaryID: 1, term: 2)
        case .follow:
            return follow(config: config, upstreamID: 1, upstream: nil, formerUpstreamID: nil)
        case .eventNotification:
            let record = EventRecord(nodeID: config.nodeID, event: "keel_hook_test", successful: true,
                                     timestamp: EventWriter.timestamp(), details: "test event from keel hook test",
                                     nodeName: config.nodeName)
            return event(record, primary: nil, config: config)
        case .childNodesDisconnect:
            return childNodesDisconnect(config: config, details: "test from keel hook test: child nodes disconnected")
        case .fence:
            let fact = FenceFact(nodeID: config.nodeID, reason: .isolated, timeline: 1, term: 1, action: .demote,
                                 details: "test from keel hook test: 0 of 2 nodes sharing this primary as upstream are visible",
                                 previousSynchronousStandbyNames: nil, fencedAt: EventWriter.timestamp())
            return fence(config: config, fact: fact)
        default:
            return service(config: config, action: point.serviceAction ?? "start")
        }
    }

    /// The `%` placeholder values of `point`'s shell form, read from its context table.
    public static func placeholders(for point: HookPoint, _ context: LuaValue) -> [Character: String] {
        func text(_ key: String) -> String? {
            switch context[key] {
            case .null: nil
            case .string(let s): s
            case .boolean(let b): b ? "1" : "0"
            case let other: other.description
            }
        }
        let letters: [(Character, String)] = switch point {
        case .failoverValidation: [("n", "node_id"), ("a", "node_name"), ("v", "visible"), ("u", "shared_upstream"), ("t", "total")]
        case .follow: [("n", "upstream_id")]
        case .eventNotification: [("n", "node_id"), ("e", "event"), ("s", "success"), ("t", "timestamp"), ("d", "details"),
                                  ("p", "primary_id"), ("c", "conninfo"), ("a", "primary_name")]
        case .childNodesDisconnect: [("p", "node_id")]
        case .fence: [("n", "node_id"), ("a", "node_name"), ("d", "details")]
        default: []
        }
        var values: [Character: String] = [:]
        for (letter, key) in letters { values[letter] = text(key) }
        return values
    }

    private static func int(_ i: Int) -> LuaValue { .integer(Int64(i)) }
}
