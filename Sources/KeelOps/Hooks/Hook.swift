#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelLua

/// A hook key's value, the one contract for shell and Lua hooks (see the README, "Lua hooks"): empty, a
/// shell command (repmgr's `%` placeholders, expanded and shell-quoted by `Placeholders.expand`, run with
/// `/bin/sh -c`), or `lua:PATH` / `lua:PATH#function` (run in-process by the Lua engine).
public enum Hook: Sendable, Equatable, CustomStringConvertible {
    /// The key is empty: nothing to run.
    case none
    /// A shell command template.
    case shell(String)
    /// A Lua function.
    case lua(LuaHookReference)

    /// Reads a hook value; a relative Lua path is taken relative to `configDirectory` (the folder of the
    /// configuration file that set it).
    public init(_ value: String, configDirectory: String?) {
        if value.allSatisfy({ $0 == " " || $0 == "\t" }) {
            self = .none
        } else if let reference = LuaHookReference(parsing: value, relativeTo: configDirectory) {
            self = .lua(reference)
        } else {
            self = .shell(value)
        }
    }

    /// The hook configured under `point` in `config`.
    public init(_ point: HookPoint, in config: KeelConfig) {
        let path = config.path
        self.init(config.string(point.key), configDirectory: path.lastIndex(of: "/").map { String(path[..<$0]) })
    }

    /// The value as configured (`lua:…` for Lua).
    public var description: String {
        switch self {
        case .none: ""
        case .shell(let command): command
        case .lua(let reference): reference.description
        }
    }
}

/// A hook key: where in Keel a hook runs, and which `%` placeholders its shell form gets.
public struct HookPoint: Sendable, Hashable, CustomStringConvertible {
    /// The configuration key (`failover_validation_command` …).
    public var key: String

    /// Makes a point for `key` (one of `HookPoint.all` in practice).
    public init(key: String) { self.key = key }

    /// `failover_validation_command` (keeld, the election winner): `%n %a %v %u %t`; Lua gets the validation
    /// context and returns `true` to allow the promotion, `false, "reason"` to veto it.
    public static let failoverValidation = HookPoint(key: "failover_validation_command")
    /// `promote_command` (keeld): Lua returns `true` or `false, "reason"`; Keel records the promotion.
    public static let promote = HookPoint(key: "promote_command")
    /// `follow_command` (keeld): `%n` = the node to follow; Lua returns `true` or `false, "reason"`.
    public static let follow = HookPoint(key: "follow_command")
    /// `event_notification_command` (keel and keeld): `%n %e %s %t %d %p %c %a`; Lua's return is ignored.
    public static let eventNotification = HookPoint(key: "event_notification_command")
    /// `child_nodes_disconnect_command` (keeld on a primary): `%p` = this node.
    public static let childNodesDisconnect = HookPoint(key: "child_nodes_disconnect_command")
    /// `fence_command` (keeld, after this node fenced itself): `%n %a %d`; Lua gets the fence table
    /// (`node_id, node_name, reason, action, details, timeline, term`) and returns `true` or `false, "reason"`.
    public static let fence = HookPoint(key: "fence_command")
    /// `service_<action>_command` (`start`, `stop`, `restart`, `reload`, `promote`).
    public static func service(_ action: String) -> HookPoint { HookPoint(key: "service_\(action)_command") }

    /// Every hook key Keel runs.
    public static let all: [HookPoint] = [.failoverValidation, .promote, .follow, .eventNotification, .childNodesDisconnect, .fence]
        + ["start", "stop", "restart", "reload", "promote"].map(service)

    /// The `service_*` action of a service point (`start` …), `nil` for the others.
    public var serviceAction: String? {
        guard key.hasPrefix("service_"), key.hasSuffix("_command") else { return nil }
        return String(key.dropFirst("service_".count).dropLast("_command".count))
    }

    /// The key.
    public var description: String { key }
}
