/// Why a Lua hook failed: which stage (loading the file, or running the hook), what kind of failure, and
/// where — file, line and traceback when Lua knows them.
///
/// Shaped after neovim's distinct load/run errors (`E5104`/`E5105`, `executor.c`), redis's error tables
/// `{err=, source=, line=}` (`script_lua.c`) and HAProxy's typed results (`hlua_exec`: timeout, no memory,
/// error). `description` is the operator's one-line form: `lua run error in /etc/keel/v.lua:12: boom`.
public struct LuaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// When the failure happened.
    public enum Stage: String, Sendable {
        /// Reading, compiling or running the file's main chunk (at first use or on reload).
        case load
        /// Calling the hook function.
        case run
    }

    /// What went wrong.
    public enum Kind: String, Sendable {
        /// The file could not be read.
        case file
        /// The file does not compile (`line` is the line Lua reports).
        case syntax
        /// A Lua error (`error(...)`, a bad index, a failed `keel.*` call).
        case runtime
        /// The call ran past its time budget (`lua_hook_timeout`).
        case timeout
        /// The VM reached its memory cap (`lua_memory_limit`).
        case memory
        /// The hook names a function the file does not define.
        case missingFunction
    }

    /// When it happened.
    public var stage: Stage
    /// What went wrong.
    public var kind: Kind
    /// The script's path (or the chunk name Lua reported).
    public var file: String?
    /// The line in `file`, when known.
    public var line: Int?
    /// The message, without the `file:line:` prefix Lua puts in front of it.
    public var message: String
    /// Lua's `stack traceback:` text, when the error came from running code.
    public var traceback: String?

    /// Makes an error.
    public init(stage: Stage, kind: Kind, file: String? = nil, line: Int? = nil, message: String, traceback: String? = nil) {
        self.stage = stage
        self.kind = kind
        self.file = file
        self.line = line
        self.message = message
        self.traceback = traceback
    }

    /// `lua <stage> error in FILE:LINE: MESSAGE` (the location part only when known); timeouts and memory
    /// errors say so: `lua run timeout in …`, `lua run memory error in …`.
    public var description: String {
        let what = switch kind {
        case .timeout: "timeout"
        case .memory: "memory error"
        default: "error"
        }
        var location = ""
        if let file { location = " in " + file + (line.map { ":\($0)" } ?? "") }
        return "lua \(stage.rawValue) \(what)\(location): \(message)"
    }

    /// Splits Lua's `chunk:line: message` form (what `error()` and the compiler produce) into its parts;
    /// `nil` when `text` does not start that way.
    static func splitLocation(_ text: String) -> (file: String, line: Int, message: String)? {
        // The chunk name may itself contain ':' (rare); the location is the first ":<digits>: ".
        var search = text.startIndex
        while let colon = text[search...].firstIndex(of: ":") {
            let afterColon = text.index(after: colon)
            let digits = text[afterColon...].prefix { $0.isASCII && $0.isNumber }
            let end = text.index(afterColon, offsetBy: digits.count)
            if !digits.isEmpty, text[end...].hasPrefix(": "), let line = Int(digits) {
                return (String(text[..<colon]), line, String(text[text.index(end, offsetBy: 2)...]))
            }
            search = afterColon
        }
        return nil
    }
}
