import CLua
import CLuaShim
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// The playbook-only part of the `keel` module (present only in `keel run`'s environment):
/// `keel.args`, `keel.required`, `keel.params{...}`, `keel.step(name, fn)`, `keel.wait_for(fn, {timeout=,
/// interval=, what=})` and the operations `keel.promote|follow|switchover|rejoin|service`.
extension KeelModule {
    /// Adds the playbook fields to the `keel` table at `keel` (an absolute index).
    func pushPlaybookFields(_ s: LuaStack, keel: Int32, playbook: PlaybookState) {
        let functions: [(String, Function)] = [
            ("params", .params), ("step", .step), ("wait_for", .waitFor), ("promote", .promote), ("follow", .follow),
            ("switchover", .switchover), ("rejoin", .rejoin), ("service", .service),
        ]
        for (name, fn) in functions {
            keel_lua_push_host_function(s.L, fn.rawValue)
            s.setRawField(name, of: keel)
        }
        s.push(.table(playbook.arguments.mapValues(LuaValue.string)))
        s.setRawField("args", of: keel)
        s.push(.table([PlaybookState.requiredMarker: .boolean(true)]))
        s.setRawField("required", of: keel)
    }

    /// The running playbook and its host, or the error a hook (or a misplaced call) gets.
    func requirePlaybook(_ fn: Function) throws -> (PlaybookState, any PlaybookHost) {
        guard let playbook, let host = host as? any PlaybookHost else {
            throw KeelModuleError("\(fn.luaName) is only available in playbooks (keel run)")
        }
        return (playbook, host)
    }

    /// `keel.params{name = default | keel.required, ...}` → the arguments, converted to each default's
    /// type. Unknown, missing or malformed arguments fail the playbook before its first step.
    func params(_ s: LuaStack) throws -> Int32 {
        let (playbook, _) = try requirePlaybook(.params)
        guard !playbook.running else { throw KeelModuleError("keel.params: declare the arguments at the top of the playbook, not inside a step") }
        let declarations: [String: LuaValue]
        switch s.value(at: 1) {
        case .table(let fields): declarations = fields
        case .array(let items) where items.isEmpty: declarations = [:]
        default: throw KeelModuleError("keel.params: argument 1 must be a table {name = default, ...}, not \(s.typeName(at: 1))")
        }
        playbook.declared = true
        do {
            s.push(try playbook.resolve(declarations))
        } catch {
            playbook.argumentError = true
            throw error
        }
        return 1
    }

    /// `keel.step(name, fn)`: declares a step (they run in order once the file's main chunk returns).
    func step(_ s: LuaStack) throws -> Int32 {
        let (playbook, _) = try requirePlaybook(.step)
        guard !playbook.running else {
            throw KeelModuleError("keel.step: steps are declared at the playbook's top level, not inside another step")
        }
        guard let name = s.string(at: 1) else { throw KeelModuleError("keel.step: argument 1 must be the step's name (a string), not \(s.typeName(at: 1))") }
        guard keel_lua_isfunction(s.L, 2) != 0 else { throw KeelModuleError("keel.step: argument 2 must be a function, not \(s.typeName(at: 2))") }
        lua_pushvalue(s.L, 2)
        playbook.steps.append((name, s.ref()))
        return 0
    }

    /// `keel.wait_for(fn, {timeout = 60, interval = 1, what = "condition"})`: calls `fn` until it returns
    /// a true value (→ true), raising when `timeout` seconds pass or Ctrl-C is pressed. Dry run: notes
    /// `would: wait up to … for …` and returns true without calling `fn`.
    func waitFor(_ s: LuaStack) throws -> Int32 {
        let (playbook, host) = try requirePlaybook(.waitFor)
        guard keel_lua_isfunction(s.L, 1) != 0 else { throw KeelModuleError("keel.wait_for: argument 1 must be a function, not \(s.typeName(at: 1))") }
        let options = s.top >= 2 ? s.value(at: 2) : .null
        let timeout = options["timeout"].doubleValue ?? 60
        let interval = max(0.05, options["interval"].doubleValue ?? 1)
        let what = options["what"].stringValue ?? "the condition"
        if host.dryRun {
            playbook.notes.append("wait up to \(Self.seconds(timeout)) for \(what)")
            lua_pushboolean(s.L, 1)
            return 1
        }
        let started = Date()
        while true {
            lua_pushvalue(s.L, 1)
            let status = keel_lua_guest_pcall(s.L, 0, 1, 0)
            if status != LUA_OK {
                let message = s.string(at: -1) ?? "error in the wait_for function"
                lua_settop(s.L, -2)
                throw KeelModuleError(message)
            }
            let done = lua_toboolean(s.L, -1) != 0
            lua_settop(s.L, -2)
            if done { lua_pushboolean(s.L, 1); return 1 }
            let elapsed = Date().timeIntervalSince(started)
            if elapsed >= timeout { throw KeelModuleError("keel.wait_for: gave up after \(Self.seconds(timeout)) waiting for \(what)") }
            host.waiting(for: what, elapsed: elapsed, timeout: timeout)
            try pause(min(interval, timeout - elapsed), host: host, playbook: playbook, what: "waiting for \(what)")
        }
    }

    /// Sleeps `seconds` in short slices, raising as soon as Ctrl-C is pressed.
    func pause(_ seconds: Double, host: any PlaybookHost, playbook: PlaybookState, what: String) throws {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if host.interrupted {
                playbook.interruptedInStep = true
                throw KeelModuleError("interrupted while \(what)")
            }
            sleepThread(seconds: min(0.1, max(0, end.timeIntervalSinceNow)))
        }
        if host.interrupted {
            playbook.interruptedInStep = true
            throw KeelModuleError("interrupted while \(what)")
        }
    }

    /// `keel.promote|follow|switchover|rejoin|service(...)` → the operation's one-line summary. A failure
    /// raises `keel.<op>: reason` and makes the operation's exit status the playbook's.
    func operation(_ s: LuaStack, _ fn: Function) throws -> Int32 {
        let (playbook, host) = try requirePlaybook(fn)
        guard playbook.running else { throw KeelModuleError("\(fn.luaName): operations run inside steps (keel.step), not while the playbook is declared") }
        guard let node = s.integer(at: 1).map(Int.init) else {
            throw KeelModuleError("\(fn.luaName): argument 1 must be a node ID (an integer), not \(s.typeName(at: 1))")
        }
        let options = s.top >= 2 ? s.value(at: 2) : .null
        let flag = { (name: String) in options[name].boolValue ?? false }
        let op: PlaybookOperation
        switch fn {
        case .promote: op = .promote(node: node, siblingsFollow: flag("siblings_follow"))
        case .follow: op = .follow(node: node, upstream: options.intValue)
        case .switchover:
            op = .switchover(node: node, siblingsFollow: flag("siblings_follow"), forceRewind: flag("force_rewind"), alwaysPromote: flag("always_promote"))
        case .rejoin:
            let files: [String]
            switch options["config_files"] {
            case .array(let items): files = items.compactMap(\.stringValue)
            case .string(let list): files = list.split(separator: ",").map(String.init)
            default: files = []
            }
            op = .rejoin(node: node, forceRewind: flag("force_rewind"), configFiles: files)
        default:
            guard let action = options.stringValue else {
                throw KeelModuleError("keel.service: argument 2 must be the action (start, stop, restart, reload, promote)")
            }
            op = .service(node: node, action: action)
        }
        do {
            let summary = try host.operation(op)
            if host.dryRun { playbook.notes.append(summary) }
            s.push(string: summary)
            return 1
        } catch let error as PlaybookOperationError {
            playbook.operationExit = error.exitCode
            throw KeelModuleError("\(fn.luaName): \(error.message)")
        }
    }

    /// `90 s`, `1.5 s`.
    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(cFormat: "%.1f s", value)
    }
}
