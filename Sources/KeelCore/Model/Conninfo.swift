#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// libpq keyword/value connection strings (`host=a port=5432 user=repmgr`), as far as Keel needs to read
/// and rewrite them without libpq: parse, mask the password, set a keyword, render back.
/// Parsing and masking are `ConninfoSyntax`'s (libpq §34.1.1 syntax); this type adds the rewriting.
public enum Conninfo {
    /// The keyword/value pairs in order (a URI is decoded into pairs), or `nil` when the string is not
    /// valid conninfo syntax (see `ConninfoSyntax.parse`).
    public static func parse(_ text: String) -> [(key: String, value: String)]? {
        guard let parameters = try? ConninfoSyntax.parse(text) else { return nil }
        return parameters.map { ($0.keyword, $0.value) }
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

    /// Whether `conninfo` names the server at `host`:`port` (port 5432 when absent; loopback names and
    /// local sockets count as one host), e.g. to match `pg_stat_wal_receiver.sender_host/port` to a node.
    public static func names(_ conninfo: String, host: String, port: Int) -> Bool {
        let nodeHost = value("host", in: conninfo) ?? value("hostaddr", in: conninfo) ?? "localhost"
        let nodePort = Int(value("port", in: conninfo) ?? "5432") ?? 5432
        func loopback(_ h: String) -> Bool { h == "localhost" || h.hasPrefix("127.") || h == "::1" || h.hasPrefix("/") }
        return nodePort == port && (nodeHost == host || (loopback(nodeHost) && loopback(host)))
    }

    /// `text` without `keys`.
    public static func removing(_ keys: Set<String>, from text: String) -> String {
        guard let pairs = parse(text) else { return text }
        return render(pairs.filter { !keys.contains($0.key) })
    }

    /// The string with every password replaced by `...`, safe to print, log or store in an event
    /// (`ConninfoSyntax.masked`: keyword/value and URI forms, also strings that do not parse).
    public static func masked(_ text: String) -> String { ConninfoSyntax.masked(text) }

    private static func quote(_ value: String) -> String {
        if !value.isEmpty, !value.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\\" }) { return value }
        return "'" + value.replacing("\\", with: "\\\\").replacing("'", with: "\\'") + "'"
    }
}
