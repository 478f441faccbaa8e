import Foundation

/// libpq keyword/value connection strings (`host=a port=5432 user=repmgr`), as far as Keel needs to read
/// and rewrite them without libpq: parse, mask the password, set a keyword, render back.
/// Syntax from PostgreSQL's "Connection Strings" (libpq §34.1.1): values may be single-quoted with `\'`
/// and `\\` escapes; spaces around `=` are allowed. URIs (`postgresql://…`) are kept opaque.
public enum Conninfo {
    /// The keyword/value pairs in order, or `nil` when the string is not valid keyword/value syntax.
    public static func parse(_ text: String) -> [(key: String, value: String)]? {
        var pairs: [(key: String, value: String)] = []
        var chars = Array(text)[...]
        func skipSpaces() { while let c = chars.first, c.isWhitespace { chars = chars.dropFirst() } }
        while true {
            skipSpaces()
            guard !chars.isEmpty else { return pairs }
            var key = ""
            while let c = chars.first, c != "=", !c.isWhitespace { key.append(c); chars = chars.dropFirst() }
            skipSpaces()
            guard !key.isEmpty, chars.first == "=" else { return nil }
            chars = chars.dropFirst()
            skipSpaces()
            var value = ""
            if chars.first == "'" {
                chars = chars.dropFirst()
                var closed = false
                while let c = chars.first {
                    chars = chars.dropFirst()
                    if c == "\\", let next = chars.first { value.append(next); chars = chars.dropFirst(); continue }
                    if c == "'" { closed = true; break }
                    value.append(c)
                }
                guard closed else { return nil }
            } else {
                while let c = chars.first, !c.isWhitespace {
                    if c == "\\", chars.count > 1 { chars = chars.dropFirst(); value.append(chars.first!); chars = chars.dropFirst(); continue }
                    value.append(c); chars = chars.dropFirst()
                }
            }
            pairs.append((key, value))
        }
    }

    /// The value of `key`, or `nil`.
    public static func value(_ key: String, in text: String) -> String? {
        parse(text)?.last(where: { $0.key == key })?.value
    }

    /// Renders pairs back to a conninfo string, quoting values that need it.
    public static func render(_ pairs: [(key: String, value: String)]) -> String {
        pairs.map { "\($0.key)=\(quote($0.value))" }.joined(separator: " ")
    }

    /// `text` with `key` set to `value` (replaced in place, or appended).
    public static func setting(_ key: String, to value: String, in text: String) -> String {
        guard var pairs = parse(text) else { return text }
        if let i = pairs.firstIndex(where: { $0.key == key }) { pairs[i].value = value } else { pairs.append((key, value)) }
        return render(pairs)
    }

    /// `text` without `keys`.
    public static func removing(_ keys: Set<String>, from text: String) -> String {
        guard let pairs = parse(text) else { return text }
        return render(pairs.filter { !keys.contains($0.key) })
    }

    /// The string with every password replaced by `...`, safe to print, log or store in an event.
    /// Also masks `password=` inside strings that do not parse, and `:pass@` in URIs.
    public static func masked(_ text: String) -> String {
        if let pairs = parse(text), pairs.contains(where: { $0.key == "password" }) {
            return render(pairs.map { $0.key == "password" ? ($0.key, "...") : $0 })
        }
        var out = text
        if let range = out.range(of: "password=") {
            let rest = out[range.upperBound...]
            let end = rest.firstIndex(where: { $0.isWhitespace }) ?? out.endIndex
            out.replaceSubrange(range.upperBound..<end, with: "...")
        }
        if out.contains("://"), let at = out.firstIndex(of: "@"),
           let scheme = out.range(of: "://"), let colon = out[scheme.upperBound..<at].firstIndex(of: ":") {
            out.replaceSubrange(out.index(after: colon)..<at, with: "...")
        }
        return out
    }

    private static func quote(_ value: String) -> String {
        if !value.isEmpty, !value.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\\" }) { return value }
        return "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
