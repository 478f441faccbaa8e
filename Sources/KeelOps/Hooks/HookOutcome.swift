import KeelLua

/// What running a hook gave, the same shape for both kinds: whether it allowed/succeeded, and if not why;
/// how long it took; the shell command's status and output, or the Lua values, logs and error.
public struct HookOutcome: Sendable {
    /// How the hook ran.
    public enum Kind: String, Sendable {
        /// The key is empty; nothing ran (`succeeded` is true).
        case none
        /// `/bin/sh -c`.
        case shell
        /// In-process Lua.
        case lua
    }

    /// How it ran.
    public var kind: Kind
    /// The hook as configured (`lua:PATH#fn`) or the expanded shell command.
    public var command: String
    /// Exit 0 / Lua `true` (events: no error).
    public var succeeded: Bool
    /// Why not, for logs and events: `failover_validation_command exited with status 1: …`,
    /// `lua:/x.lua#v returned false: lag too high`, `lua:/x.lua#v failed: lua run timeout in …`.
    public var reason: String?
    /// Wall-clock seconds, as the caller saw them (the shell's spawn and wait; Lua's hop to the engine).
    public var seconds: Double
    /// Lua: seconds of the call itself, measured on the engine's thread (loading the script included when
    /// this call loaded it).
    public var callSeconds: Double?
    /// The shell's exit status.
    public var status: Int32?
    /// The shell's standard output.
    public var stdout: String = ""
    /// The shell's standard error.
    public var stderr: String = ""
    /// What the Lua function returned.
    public var values: [LuaValue] = []
    /// What the Lua function logged.
    public var logs: [LuaLogEntry] = []
    /// The Lua failure, when there was one.
    public var luaError: LuaError?

    /// Makes an outcome.
    public init(kind: Kind, command: String, succeeded: Bool, reason: String?, seconds: Double) {
        self.kind = kind
        self.command = command
        self.succeeded = succeeded
        self.reason = reason
        self.seconds = seconds
    }
}
