/// Syntax of libpq connection strings, checked without libpq (KeelCore links no C library), and
/// password masking for anything printed.
///
/// Keyword/value form as libpq's `conninfo_parse` (`fe-connect.c`): `keyword = value` pairs
/// separated by blanks; blanks around `=` allowed; a value is either unquoted (ends at a blank,
/// `\x` stands for `x`) or single-quoted (`\'` and `\\` escapes; must be closed); every keyword must
/// be one libpq knows. URI form (`postgresql://` or `postgres://`) is accepted with its query
/// keywords checked. This is what repmgr's `validate_conninfo_string` (`PQconninfoParse`) checks:
/// keywords, not values.
public enum ConninfoSyntax {
    /// What is wrong with a connection string, in libpq's words.
    public struct SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
        /// libpq's message, e.g. `missing "=" after "port" in connection info string`.
        public var message: String
        /// The message.
        public var description: String { message }
    }

    /// One `keyword=value` pair, value de-escaped.
    public struct Parameter: Sendable, Equatable {
        /// The connection keyword (`host`, `port`, …).
        public var keyword: String
        /// The value, unquoted and de-escaped (URI values percent-decoded).
        public var value: String
    }

    /// What a masked secret is printed as (the same as `Conninfo.masked(_:)`).
    public static let mask = "..."

    /// The connection keywords libpq accepts (PostgreSQL 12–18), `PQconndefaults()` names.
    public static let knownKeywords: Set<String> = [
        "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "channel_binding",
        "connect_timeout", "client_encoding", "options", "application_name", "fallback_application_name",
        "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
        "replication", "sslmode", "sslnegotiation", "sslcompression", "sslcert", "sslkey", "sslcertmode",
        "sslpassword", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "sslkeylogfile", "requirepeer",
        "require_auth", "ssl_min_protocol_version", "ssl_max_protocol_version", "min_protocol_version",
        "max_protocol_version", "gssencmode", "krbsrvname", "gsslib", "gssdelegation", "service",
        "target_session_attrs", "load_balance_hosts", "scram_client_key", "scram_server_key",
        "oauth_issuer", "oauth_client_id", "oauth_client_secret", "oauth_scope",
        "authtype", "tty",  // accepted and ignored by older libpq
    ]

    /// Keywords whose values are secrets.
    static let secretKeywords: Set<String> = ["password", "sslpassword", "oauth_client_secret"]

    /// Parses `conninfo` into its pairs.
    /// - Throws: `SyntaxError` for a keyword without `=`, an unterminated quoted value, an
    ///   unknown keyword, or a malformed URI. The message never holds a value.
    public static func parse(_ conninfo: String) throws(SyntaxError) -> [Parameter] {
        try scan(conninfo).map { Parameter(keyword: $0.keyword, value: $0.value) }
    }

    /// The value of `keyword` in `conninfo` (the last one when repeated), or `nil` when absent or
    /// when `conninfo` does not parse.
    public static func value(of keyword: String, in conninfo: String) -> String? {
        (try? parse(conninfo))?.last { $0.keyword == keyword }?.value
    }

    /// True when `conninfo` holds a non-empty password (keyword/value or URI form).
    public static func containsPassword(_ conninfo: String) -> Bool {
        guard let pairs = try? scan(conninfo) else {
            return redactingPasswords(in: conninfo) != conninfo
        }
        return pairs.contains { secretKeywords.contains($0.keyword) && !$0.value.isEmpty }
    }

    /// `conninfo` with every secret value replaced by `...`, the rest unchanged
    /// (`host=a password='x y' user=b` → `host=a password=... user=b`). Falls back to the
    /// pattern-based `redactingPasswords(in:)` when `conninfo` does not parse.
    public static func masked(_ conninfo: String) -> String {
        guard let pairs = try? scan(conninfo) else { return redactingPasswords(in: conninfo) }
        var bytes = Array(conninfo.utf8)
        for pair in pairs.reversed() where secretKeywords.contains(pair.keyword) {
            bytes.replaceSubrange(pair.valueRange, with: Array(mask.utf8))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Masks anything that looks like a password in free text: `password=…` (also
    /// `sslpassword=…`, any case, blanks around `=`; the value is a quoted string or runs to the
    /// next blank) and the `:secret@` part of `scheme://user:secret@host`. A safety net for
    /// messages; already-masked values are left alone.
    public static func redactingPasswords(in text: String) -> String {
        var bytes = Array(text.utf8)
        redactKeywordValues(&bytes)
        redactURIPasswords(&bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - keyword/value scanner (libpq conninfo_parse)

    struct ScannedPair {
        var keyword: String
        var value: String
        /// Byte range of the value as written (quotes included).
        var valueRange: Range<Int>
    }

    static func isBlank(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0B || b == 0x0C || b == 0x0D
    }

    static func scan(_ conninfo: String) throws(SyntaxError) -> [ScannedPair] {
        let trimmed = conninfo.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        if trimmed.hasPrefix("postgresql://") || trimmed.hasPrefix("postgres://") {
            return try scanURI(conninfo)
        }
        let b = Array(conninfo.utf8)
        var pairs: [ScannedPair] = []
        var i = 0
        while i < b.count {
            if isBlank(b[i]) {
                i += 1
                continue
            }
            let nameStart = i
            while i < b.count, b[i] != UInt8(ascii: "="), !isBlank(b[i]) { i += 1 }
            let name = String(decoding: b[nameStart..<i], as: UTF8.self)
            while i < b.count, isBlank(b[i]) { i += 1 }
            guard i < b.count, b[i] == UInt8(ascii: "=") else {
                // The word may be the tail of an unquoted password with a space in it: name it only when
                // the string holds no password.
                let shown = conninfo.lowercased().contains("password") ? "a word" : "\"\(name)\""
                throw SyntaxError(message: "missing \"=\" after \(shown) in connection info string")
            }
            i += 1
            while i < b.count, isBlank(b[i]) { i += 1 }
            let valueStart = i
            var value: [UInt8] = []
            if i < b.count, b[i] == UInt8(ascii: "'") {
                i += 1
                var closed = false
                while i < b.count {
                    if b[i] == UInt8(ascii: "\\") {
                        i += 1
                        if i < b.count {
                            value.append(b[i])
                            i += 1
                        }
                        continue
                    }
                    if b[i] == UInt8(ascii: "'") {
                        i += 1
                        closed = true
                        break
                    }
                    value.append(b[i])
                    i += 1
                }
                guard closed else {
                    throw SyntaxError(message: "unterminated quoted string in connection info string")
                }
            } else {
                while i < b.count, !isBlank(b[i]) {
                    if b[i] == UInt8(ascii: "\\") {
                        i += 1
                        if i < b.count {
                            value.append(b[i])
                            i += 1
                        }
                    } else {
                        value.append(b[i])
                        i += 1
                    }
                }
            }
            guard knownKeywords.contains(name) else {
                throw SyntaxError(message: "invalid connection option \"\(name)\"")
            }
            pairs.append(ScannedPair(keyword: name, value: String(decoding: value, as: UTF8.self),
                                     valueRange: valueStart..<i))
        }
        return pairs
    }

    // MARK: - URI scanner (libpq conninfo_uri_parse, simplified)

    /// `postgresql://[user[:password]@][host][:port][,…][/dbname][?keyword=value&…]`.
    private static func scanURI(_ conninfo: String) throws(SyntaxError) -> [ScannedPair] {
        let b = Array(conninfo.utf8)
        guard let schemeEnd = find(Array("://".utf8), in: b, from: 0) else {
            throw SyntaxError(message: "invalid URI")
        }
        var pairs: [ScannedPair] = []
        var i = schemeEnd + 3
        let authorityEnd = b[i...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? b.count
        if let at = b[i..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) {
            let userInfo = i..<at
            if let colon = b[userInfo].firstIndex(of: UInt8(ascii: ":")) {
                pairs.append(ScannedPair(keyword: "user", value: try percentDecoded(b[i..<colon]), valueRange: i..<colon))
                pairs.append(ScannedPair(keyword: "password", value: try percentDecoded(b[(colon + 1)..<at]),
                                         valueRange: (colon + 1)..<at))
            } else if !userInfo.isEmpty {
                pairs.append(ScannedPair(keyword: "user", value: try percentDecoded(b[userInfo]), valueRange: userInfo))
            }
            i = at + 1
        }
        if i < authorityEnd {
            // host[:port], with [v6-address] brackets (a single host; multi-host lists stay whole).
            var hostEnd = authorityEnd
            var hostStart = i
            if !b[i..<authorityEnd].contains(UInt8(ascii: ",")),
               let colon = b[i..<authorityEnd].lastIndex(of: UInt8(ascii: ":")),
               colon + 1 < authorityEnd, b[(colon + 1)..<authorityEnd].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
               b[i] != UInt8(ascii: "[") || b[colon - 1] == UInt8(ascii: "]") {
                hostEnd = colon
            }
            if b[hostStart] == UInt8(ascii: "["), hostEnd > hostStart + 1, b[hostEnd - 1] == UInt8(ascii: "]") {
                hostStart += 1
                let inner = hostStart..<(hostEnd - 1)
                pairs.append(ScannedPair(keyword: "host", value: try percentDecoded(b[inner]), valueRange: inner))
            } else if hostEnd > hostStart {
                pairs.append(ScannedPair(keyword: "host", value: try percentDecoded(b[hostStart..<hostEnd]),
                                         valueRange: hostStart..<hostEnd))
            }
            if hostEnd < authorityEnd {
                pairs.append(ScannedPair(keyword: "port", value: try percentDecoded(b[(hostEnd + 1)..<authorityEnd]),
                                         valueRange: (hostEnd + 1)..<authorityEnd))
            }
        }
        i = authorityEnd
        if i < b.count, b[i] == UInt8(ascii: "/") {
            let dbEnd = b[(i + 1)...].firstIndex(of: UInt8(ascii: "?")) ?? b.count
            if dbEnd > i + 1 {
                pairs.append(ScannedPair(keyword: "dbname", value: try percentDecoded(b[(i + 1)..<dbEnd]),
                                         valueRange: (i + 1)..<dbEnd))
            }
            i = dbEnd
        }
        if i < b.count, b[i] == UInt8(ascii: "?") {
            i += 1
            while i < b.count {
                let end = b[i...].firstIndex(of: UInt8(ascii: "&")) ?? b.count
                guard let eq = b[i..<end].firstIndex(of: UInt8(ascii: "=")) else {
                    throw SyntaxError(message: "missing key/value separator \"=\" in URI query parameter")
                }
                let keyword = try percentDecoded(b[i..<eq])
                guard knownKeywords.contains(keyword) || keyword == "ssl" else {
                    throw SyntaxError(message: "invalid URI query parameter: \"\(keyword)\"")
                }
                pairs.append(ScannedPair(keyword: keyword, value: try percentDecoded(b[(eq + 1)..<end]),
                                         valueRange: (eq + 1)..<end))
                i = end + 1
            }
        }
        return pairs
    }

    private static func percentDecoded(_ bytes: ArraySlice<UInt8>) throws(SyntaxError) -> String {
        var out: [UInt8] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.endIndex,
                    let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2])
                else {
                    throw SyntaxError(message: "invalid percent-encoded token in URI")
                }
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var i = start
        while i + needle.count <= haystack.count {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

    // MARK: - free-text redaction

    private static func lowercased(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b + 0x20 : b }

    private static func redactKeywordValues(_ bytes: inout [UInt8]) {
        let needle = Array("password".utf8)
        let maskBytes = Array(mask.utf8)
        var i = 0
        while i + needle.count <= bytes.count {
            var matches = true
            for k in 0..<needle.count where lowercased(bytes[i + k]) != needle[k] {
                matches = false
                break
            }
            guard matches else {
                i += 1
                continue
            }
            var j = i + needle.count
            while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x09 { j += 1 }
            guard j < bytes.count, bytes[j] == UInt8(ascii: "=") else {
                i += needle.count
                continue
            }
            j += 1
            while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x09 { j += 1 }
            let valueStart = j
            if j < bytes.count, bytes[j] == UInt8(ascii: "'") {
                j += 1
                while j < bytes.count {
                    if bytes[j] == UInt8(ascii: "\\") {
                        j += 2
                        continue
                    }
                    if bytes[j] == UInt8(ascii: "'") {
                        j += 1
                        break
                    }
                    j += 1
                }
                j = min(j, bytes.count)
            } else {
                if bytes[valueStart...].starts(with: maskBytes) {
                    i = valueStart + maskBytes.count
                    continue
                }
                while j < bytes.count, !isBlank(bytes[j]) { j += 1 }
            }
            if j > valueStart {
                bytes.replaceSubrange(valueStart..<j, with: maskBytes)
                i = valueStart + maskBytes.count
            } else {
                i = j
            }
        }
    }

    private static func redactURIPasswords(_ bytes: inout [UInt8]) {
        let separator = Array("://".utf8)
        let maskBytes = Array(mask.utf8)
        var searchFrom = 0
        while let schemeEnd = find(separator, in: bytes, from: searchFrom) {
            let start = schemeEnd + 3
            var end = start
            while end < bytes.count, !isBlank(bytes[end]), bytes[end] != UInt8(ascii: "/"),
                bytes[end] != UInt8(ascii: "?"), bytes[end] != UInt8(ascii: "\"")
            {
                end += 1
            }
            if let at = bytes[start..<end].lastIndex(of: UInt8(ascii: "@")),
                let colon = bytes[start..<at].firstIndex(of: UInt8(ascii: ":")),
                colon + 1 < at, Array(bytes[(colon + 1)..<at]) != maskBytes
            {
                bytes.replaceSubrange((colon + 1)..<at, with: maskBytes)
                searchFrom = colon + 1 + maskBytes.count
            } else {
                searchFrom = start
            }
        }
    }
}
