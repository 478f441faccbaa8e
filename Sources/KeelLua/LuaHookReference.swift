/// A hook value naming a Lua function: `lua:PATH` (the function the file returns) or `lua:PATH#name`
/// (the global `name` the file defines, else the field `name` of the table the file returns), as
/// the README's "Lua hooks" section specifies.
public struct LuaHookReference: Sendable, Hashable, CustomStringConvertible {
    /// The script file (absolute once resolved against the configuration file's folder).
    public var path: String
    /// The function's name after `#`; `nil` = the function the file returns.
    public var function: String?

    /// A reference to `function` in `path`.
    public init(path: String, function: String? = nil) {
        self.path = path
        self.function = function
    }

    /// Parses a hook value: `nil` unless it starts with `lua:` (after leading blanks). A relative `PATH` is
    /// taken relative to `directory` when given. An empty path gives `nil`; an empty `#` part means none.
    public init?(parsing value: String, relativeTo directory: String? = nil) {
        let trimmed = value.drop { $0 == " " || $0 == "\t" }
        guard trimmed.hasPrefix("lua:") else { return nil }
        var rest = String(trimmed.dropFirst(4)).trimming { $0 == " " || $0 == "\t" }
        var function: String?
        if let hash = rest.lastIndex(of: "#") {
            let name = String(rest[rest.index(after: hash)...]).trimming { $0 == " " || $0 == "\t" }
            function = name.isEmpty ? nil : name
            rest = String(rest[..<hash]).trimming { $0 == " " || $0 == "\t" }
        }
        guard !rest.isEmpty else { return nil }
        if !rest.hasPrefix("/"), let directory, !directory.isEmpty {
            rest = (directory.hasSuffix("/") ? directory : directory + "/") + rest
        }
        self.init(path: rest, function: function)
    }

    /// `lua:PATH#function` (or `lua:PATH`).
    public var description: String { "lua:" + path + (function.map { "#" + $0 } ?? "") }
}

private extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let first = s.first, set.contains(first) { s = s.dropFirst() }
        while let last = s.last, set.contains(last) { s = s.dropLast() }
        return String(s)
    }
}
