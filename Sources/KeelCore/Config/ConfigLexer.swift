/// One token of a repmgr.conf / postgresql.conf line.
struct ConfigToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case identifier        // ID: [A-Za-z_\200-\377][A-Za-z0-9_\200-\377]*
        case qualifiedID       // ID "." ID
        case quotedString      // '…' with '' and backslash escapes
        case unquotedString    // letter, then letters, digits and -._:/
        case integer           // [+-]?(digits|0xHEX)[A-Za-z]*
        case real              // [+-]?digits*.digits*([Ee][+-]?digits)?
        case equals
        case endOfLine
        case error             // any other single byte
        case endOfFile
    }

    var kind: Kind
    /// The token's bytes as written (quotes and escapes included).
    var text: [UInt8]
    /// 1-based line the token starts on.
    var line: Int

    var textString: String { String(decoding: text, as: UTF8.self) }

    /// True for the kinds that may stand as a value (`GUC_ID`, `GUC_STRING`, `GUC_INTEGER`,
    /// `GUC_REAL`, `GUC_UNQUOTED_STRING` in `guc-file.l`).
    var isValue: Bool {
        switch kind {
        case .identifier, .quotedString, .integer, .real, .unquotedString: true
        default: false
        }
    }

    /// The value this token stands for: quoted strings are unquoted and de-escaped, every other
    /// value token is taken as written.
    var value: String {
        kind == .quotedString ? ConfigLexer.deescapeQuotedString(text) : textString
    }
}

/// The lexer of PostgreSQL's configuration files, which repmgr 5 copies in
/// `configfile-scan.l` (from PostgreSQL's `src/backend/utils/misc/guc-file.l`).
///
/// Works on bytes, as flex does: bytes 0x80–0xFF count as letters, so UTF-8 names and unquoted
/// values pass through. Longest match wins; on a tie the earlier rule wins (ID before
/// QUALIFIED_ID before STRING before UNQUOTED_STRING before INTEGER before REAL). Whitespace
/// (`[ \t\r]`) is skipped, `#` starts a comment to the end of the line, `\n` is an end-of-line
/// token, and any other byte is an error token.
struct ConfigLexer: Sendable {
    private let bytes: [UInt8]
    private var position = 0
    private(set) var line = 1

    init(_ text: String) {
        self.bytes = Array(text.utf8)
    }

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The next token; `.endOfFile` forever once the input is used up.
    mutating func next() -> ConfigToken {
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") {
                position += 1
                continue
            }
            if byte == UInt8(ascii: "#") {
                while position < bytes.count, bytes[position] != UInt8(ascii: "\n") { position += 1 }
                continue
            }
            break
        }
        guard position < bytes.count else {
            return ConfigToken(kind: .endOfFile, text: [], line: line)
        }
        let start = position
        if bytes[start] == UInt8(ascii: "\n") {
            position += 1
            let token = ConfigToken(kind: .endOfLine, text: [UInt8(ascii: "\n")], line: line)
            line += 1
            return token
        }
        // Longest match over the rules, in flex's priority order for ties.
        let candidates: [(ConfigToken.Kind, Int)] = [
            (.identifier, matchIdentifier(at: start)),
            (.qualifiedID, matchQualifiedID(at: start)),
            (.quotedString, matchQuotedString(at: start)),
            (.unquotedString, matchUnquotedString(at: start)),
            (.integer, matchInteger(at: start)),
            (.real, matchReal(at: start)),
            (.equals, bytes[start] == UInt8(ascii: "=") ? 1 : 0),
        ]
        var best: (ConfigToken.Kind, Int) = (.error, 1)
        var bestLength = 0
        for (kind, length) in candidates where length > bestLength {
            best = (kind, length)
            bestLength = length
        }
        position = start + best.1
        return ConfigToken(kind: best.0, text: Array(bytes[start..<position]), line: line)
    }

    // MARK: - Character classes (guc-file.l)

    static func isLetter(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_") || b >= 0x80
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    static func isLetterOrDigit(_ b: UInt8) -> Bool { isLetter(b) || isDigit(b) }

    private static func isHexDigit(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }

    private static func isUnitLetter(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    // MARK: - Rules; each returns the length of the longest match at `i` (0 = no match)

    private func byte(_ i: Int) -> UInt8? { i < bytes.count ? bytes[i] : nil }

    private func matchIdentifier(at i: Int) -> Int {
        guard let first = byte(i), Self.isLetter(first) else { return 0 }
        var j = i + 1
        while let b = byte(j), Self.isLetterOrDigit(b) { j += 1 }
        return j - i
    }

    private func matchQualifiedID(at i: Int) -> Int {
        let head = matchIdentifier(at: i)
        guard head > 0, byte(i + head) == UInt8(ascii: ".") else { return 0 }
        let tail = matchIdentifier(at: i + head + 1)
        return tail > 0 ? head + 1 + tail : 0
    }

    private func matchUnquotedString(at i: Int) -> Int {
        guard let first = byte(i), Self.isLetter(first) else { return 0 }
        var j = i + 1
        while let b = byte(j),
            Self.isLetterOrDigit(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
                || b == UInt8(ascii: "_") || b == UInt8(ascii: ":") || b == UInt8(ascii: "/")
        {
            j += 1
        }
        return j - i
    }

    /// `\'([^'\\\n]|\\.|\'\')*\'`: the longest prefix that closes the quote.
    private func matchQuotedString(at i: Int) -> Int {
        let quote = UInt8(ascii: "'")
        let backslash = UInt8(ascii: "\\")
        let newline = UInt8(ascii: "\n")
        guard byte(i) == quote else { return 0 }
        var j = i + 1
        var lastAccept = 0
        while let b = byte(j) {
            if b == quote {
                lastAccept = j + 1 - i
                if byte(j + 1) == quote {
                    j += 2
                    continue
                }
                break
            } else if b == backslash {
                guard let escaped = byte(j + 1), escaped != newline else { break }
                j += 2
            } else if b == newline {
                break
            } else {
                j += 1
            }
        }
        return lastAccept
    }

    /// `{SIGN}?({DIGIT}+|0x{HEXDIGIT}+){UNIT_LETTER}*`.
    private func matchInteger(at i: Int) -> Int {
        var j = i
        if let b = byte(j), b == UInt8(ascii: "+") || b == UInt8(ascii: "-") { j += 1 }
        var best = 0
        // decimal alternative
        var d = j
        while let b = byte(d), Self.isDigit(b) { d += 1 }
        if d > j {
            while let b = byte(d), Self.isUnitLetter(b) { d += 1 }
            best = d - i
        }
        // hex alternative
        if byte(j) == UInt8(ascii: "0"), byte(j + 1) == UInt8(ascii: "x") {
            var h = j + 2
            while let b = byte(h), Self.isHexDigit(b) { h += 1 }
            if h > j + 2 {
                while let b = byte(h), Self.isUnitLetter(b) { h += 1 }
                best = max(best, h - i)
            }
        }
        return best
    }

    /// `{SIGN}?{DIGIT}*"."{DIGIT}*{EXPONENT}?` with `EXPONENT = [Ee]{SIGN}?{DIGIT}+`.
    private func matchReal(at i: Int) -> Int {
        var j = i
        if let b = byte(j), b == UInt8(ascii: "+") || b == UInt8(ascii: "-") { j += 1 }
        while let b = byte(j), Self.isDigit(b) { j += 1 }
        guard byte(j) == UInt8(ascii: ".") else { return 0 }
        j += 1
        while let b = byte(j), Self.isDigit(b) { j += 1 }
        if let e = byte(j), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            var k = j + 1
            if let s = byte(k), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { k += 1 }
            let digitsStart = k
            while let b = byte(k), Self.isDigit(b) { k += 1 }
            if k > digitsStart { j = k }
        }
        return j - i
    }

    // MARK: - Quoted strings

    /// Strips the quotes of a quoted-string token and resolves its escapes, as PostgreSQL's
    /// `DeescapeQuotedString` does: `''` → `'`; `\b \f \n \r \t`; `\ooo` (1–3 octal digits) → that
    /// byte; any other `\x` → `x`. A NUL byte ends the value (C string semantics).
    static func deescapeQuotedString(_ token: [UInt8]) -> String {
        guard token.count >= 2 else { return "" }
        var out: [UInt8] = []
        out.reserveCapacity(token.count)
        var i = 1
        let end = token.count - 1
        while i < end {
            let b = token[i]
            if b == UInt8(ascii: "\\"), i + 1 < end {
                i += 1
                let e = token[i]
                switch e {
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "0")...UInt8(ascii: "7"):
                    var value = 0
                    var k = 0
                    while k < 3, i + k < end, token[i + k] >= UInt8(ascii: "0"), token[i + k] <= UInt8(ascii: "7") {
                        value = (value << 3) + Int(token[i + k] - UInt8(ascii: "0"))
                        k += 1
                    }
                    i += k - 1
                    out.append(UInt8(truncatingIfNeeded: value))
                default:
                    out.append(e)
                }
            } else if b == UInt8(ascii: "'"), i + 1 < end, token[i + 1] == UInt8(ascii: "'") {
                out.append(b)
                i += 1
            } else {
                out.append(b)
            }
            i += 1
        }
        if let nul = out.firstIndex(of: 0) { out.removeSubrange(nul...) }
        return String(decoding: out, as: UTF8.self)
    }
}
