import CLua
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `keel.node`, `keel.nodes()`, `keel.node_by_id`, `keel.query`, `keel.exec`.
extension KeelModule {
    /// The module table's `__index`: `keel.node` (this node's table, looked up once per call) and
    /// `keel.dry_run` (true when `keel.exec`, `keel.shell` and `keel.event` only log what they would do).
    func moduleIndex(_ s: LuaStack) throws -> Int32 {
        let key = s.string(at: 2)
        if key == "dry_run" {
            lua_pushboolean(s.L, host?.dryRun == true ? 1 : 0)
            return 1
        }
        guard key == "node" else {
            lua_pushnil(s.L)
            return 1
        }
        if let nodeRef {
            s.push(ref: nodeRef)
            return 1
        }
        let host = try requireHost(.moduleIndex)
        let node: LuaNode
        do { node = try host.localNode() } catch { throw KeelModuleError("keel.node: \(error)") }
        s.push(node.luaValue)
        lua_pushvalue(s.L, -1)
        nodeRef = s.ref()
        return 1
    }

    /// `keel.nodes()` → an array of node tables (see `LuaNode.luaValue`).
    func nodes(_ s: LuaStack) throws -> Int32 {
        let host = try requireHost(.nodes)
        let nodes: [LuaNode]
        do { nodes = try host.nodes() } catch { throw KeelModuleError("keel.nodes: \(error)") }
        s.push(.array(nodes.map(\.luaValue)))
        return 1
    }

    /// `keel.node_by_id(id)` → the node's table, or `nil` when no node has that ID.
    func nodeByID(_ s: LuaStack) throws -> Int32 {
        let host = try requireHost(.nodeByID)
        guard let id = s.integer(at: 1) else {
            throw KeelModuleError("keel.node_by_id: argument 1 must be a node ID (an integer), not \(s.typeName(at: 1))")
        }
        let node: LuaNode?
        do { node = try host.node(id: Int(id)) } catch { throw KeelModuleError("keel.node_by_id: \(error)") }
        s.push(node?.luaValue ?? .null)
        return 1
    }

    /// `keel.query(target, sql, ...)` / `keel.exec(...)`: `target` is a node ID or a conninfo string; the
    /// remaining arguments are bound to `$1…$n` (nil = NULL, booleans `t`/`f`, numbers as text; tables
    /// refused). Returns an array of rows, each a table keyed by column name (NULL columns absent).
    func query(_ s: LuaStack, readOnly: Bool) throws -> Int32 {
        let fn: Function = readOnly ? .query : .exec
        let host = try requireHost(fn)
        let target: LuaQueryTarget
        if let id = s.integer(at: 1) {
            target = .node(Int(id))
        } else if let conninfo = s.string(at: 1) {
            target = .conninfo(conninfo)
        } else {
            throw KeelModuleError("\(fn.luaName): argument 1 must be a node ID or a conninfo string, not \(s.typeName(at: 1))")
        }
        guard let sql = s.string(at: 2) else {
            throw KeelModuleError("\(fn.luaName): argument 2 must be the SQL text (a string), not \(s.typeName(at: 2))")
        }
        var parameters: [String?] = []
        if s.top >= 3 {
            for index in 3...s.top {
                switch s.value(at: index) {
                case .null: parameters.append(nil)
                case .boolean(let b): parameters.append(b ? "t" : "f")
                case .integer(let i): parameters.append(String(i))
                case .number(let d): parameters.append(String(cFormat: "%.17g", d))
                case .string(let text): parameters.append(text)
                case .array, .table, .opaque:
                    throw KeelModuleError("\(fn.luaName): parameter $\(index - 2) is a \(s.typeName(at: index)); pass strings, numbers, booleans or nil")
                }
            }
        }
        let result: LuaQueryResult
        do {
            result = try host.query(target, sql, parameters: parameters, readOnly: readOnly, timeout: state.remainingBudget)
        } catch {
            throw KeelModuleError("\(fn.luaName): \(error)")
        }
        let L = s.L
        lua_createtable(L, Int32(clamping: result.rows.count), 0)
        for (r, row) in result.rows.enumerated() {
            lua_createtable(L, 0, Int32(clamping: result.columns.count))
            for (column, value) in zip(result.columns, row) where value != .null {
                s.push(value)
                s.setRawField(column, of: -2)
            }
            lua_rawseti(L, -2, lua_Integer(r + 1))
        }
        return 1
    }
}
