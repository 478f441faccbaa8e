import CLua

/// `keel.log.*`, `print` and `keel.event`.
extension KeelModule {
    /// `keel.log.<level>(msg)`: logs `msg` (any value; non-strings rendered as `LuaValue.description`).
    func log(_ s: LuaStack, _ level: LuaLogLevel) -> Int32 {
        let message = s.top >= 1 ? Self.text(s, 1) : ""
        record(level, message)
        return 0
    }

    /// `print(...)`: its arguments joined by tabs, logged at info (hooks have no terminal).
    func print(_ s: LuaStack) -> Int32 {
        let message = s.top >= 1 ? (1...s.top).map { Self.text(s, $0) }.joined(separator: "\t") : ""
        record(.info, message)
        return 0
    }

    /// `keel.event(name, ok, details)`: records event `name` (string, required) for this node, successful
    /// unless `ok` is `false`/`nil`-with-an-explicit-false, with `details` (default empty). Returns nothing.
    func event(_ s: LuaStack) throws -> Int32 {
        let host = try requireHost(.event)
        guard let name = s.string(at: 1), !name.isEmpty else {
            throw KeelModuleError("keel.event: argument 1 must be the event name (a string), not \(s.typeName(at: 1))")
        }
        let ok = s.top >= 2 ? s.value(at: 2).isTruthy : true
        let details = s.top >= 3 ? Self.text(s, 3) : ""
        do {
            try host.event(name, successful: ok, details: details, hook: label)
        } catch {
            throw KeelModuleError("keel.event: \(error)")
        }
        return 0
    }

    private func record(_ level: LuaLogLevel, _ message: String) {
        logs.append(LuaLogEntry(level: level, message: message))
        host?.log(level, message, hook: label)
    }

    /// The value at `index` as text: strings as they are, anything else as `LuaValue.description`.
    static func text(_ s: LuaStack, _ index: Int32) -> String {
        if let string = s.string(at: index) { return string }
        return s.value(at: index).description
    }
}
