/// What one hook call gave: the values the function returned, or why it failed; how long it took
/// (loading included, when the call loaded the file); what it logged; the VM's peak memory.
public struct LuaCallResult: Sendable {
    /// The returned values, in order (empty on failure).
    public var values: [LuaValue]
    /// Why the call failed (load or run stage), `nil` when it returned.
    public var error: LuaError?
    /// Wall-clock seconds of the call as the engine measured it (on its thread).
    public var seconds: Double
    /// Lines the hook logged (`keel.log.*`, `print`), in order.
    public var logs: [LuaLogEntry]
    /// Most bytes the VM held during the call.
    public var peakMemory: Int

    /// Makes a result.
    public init(values: [LuaValue], error: LuaError?, seconds: Double, logs: [LuaLogEntry], peakMemory: Int) {
        self.values = values
        self.error = error
        self.seconds = seconds
        self.logs = logs
        self.peakMemory = peakMemory
    }

    /// The hook contract's reading of the values: `true` → allowed/succeeded; `false, "reason"` → refused
    /// with that reason; anything else (no value, `nil`, a table …) → refused, saying what came back.
    /// A failed call is refused with the error's description.
    public var verdict: (succeeded: Bool, reason: String?) {
        if let error { return (false, error.description) }
        switch values.first {
        case .boolean(true)?: return (true, nil)
        case .boolean(false)?:
            let reason = values.count > 1 ? (values[1].stringValue ?? values[1].description) : nil
            return (false, reason ?? "returned false")
        case nil: return (false, "returned nothing (expected true, or false and a reason)")
        case let other?: return (false, "returned \(other) (expected true, or false and a reason)")
        }
    }
}

/// Outcome of loading or reloading one script (`LuaEngine.reload`).
public struct LuaReloadReport: Sendable {
    /// The script.
    public var path: String
    /// Why the new version was refused (the previous one, if any, stays in use); `nil` when it loaded.
    public var error: LuaError?
    /// True when a previous version exists and stays in use after a failed reload.
    public var keptPrevious: Bool

    /// Makes a report.
    public init(path: String, error: LuaError?, keptPrevious: Bool) {
        self.path = path
        self.error = error
        self.keptPrevious = keptPrevious
    }
}
