/// A typed setting value.
public enum ConfigValue: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// An integer setting (32-bit range).
    case int(Int)
    /// A boolean setting.
    case bool(Bool)
    /// A string, path, interval or enumerated setting (enumerations in the table's spelling).
    case string(String)
    /// A list setting: every item of every occurrence, in file order.
    case list([String])

    /// The value as repmgr prints it: integers in decimal, booleans `true`/`false`, strings as
    /// they are, lists joined with `,`.
    public var description: String {
        switch self {
        case .int(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        case .string(let value): value
        case .list(let values): values.joined(separator: ",")
        }
    }
}

/// One row of the settings table (`ConfigSettings.all`): a key of repmgr.conf with its type,
/// default and bounds, as repmgr 5.3's `config_file_settings[]` (`R:configdata.c`) declares it.
public struct ConfigSetting: Sendable, Equatable {
    /// The value type and what it accepts.
    public enum Kind: Sendable, Equatable {
        /// A 32-bit integer read as `strtol` does (`10s` → 10; `0x1F` → 31), at least `minimum`.
        /// Unit: whatever the row's doc says (seconds for timeouts and intervals).
        case integer(minimum: Int)
        /// `on/off`, `true/false`, `yes/no`, `1/0`, case-insensitive, nothing else (repmgr's
        /// `parse_bool`, which accepts no prefixes unlike postgresql.conf).
        case boolean
        /// Free text, at most `maxLength` bytes when given.
        case string(maxLength: Int?)
        /// A file-system path, canonicalized like PostgreSQL's `canonicalize_path`.
        case path
        /// An integer with an optional time unit `ms`, `s`, `min`, `h` or `d` (repmgr's
        /// `parse_time_unit_parameter`); kept as written.
        case interval
        /// One of `allowed`; stored in the spelling of `allowed` when matching case-insensitively.
        case enumeration(allowed: [String], caseSensitive: Bool)
        /// A list. `commaSeparated`: each line holds a comma list, blanks ignored
        /// (`event_notifications`); otherwise each line is one item (`tablespace_mapping`).
        /// Every occurrence of the key appends; it never replaces.
        case list(commaSeparated: Bool)
    }

    /// What the setting is about; the order of sections in repmgr.conf.sample.
    public enum Area: String, Sendable, CaseIterable {
        case node, server, replication, logging, clone, promote, follow, switchover, rejoin
        case nodeCheck = "node check"
        case witness, barman, failover
        case childMonitoring = "child monitoring"
        case service, events, hidden, keel, deprecated
    }

    /// The key, matched case-sensitively (repmgr uses `strcmp`).
    public let name: String
    public let kind: Kind
    /// repmgr's default (`R:repmgr.h` `DEFAULT_*`, `R:configdata.c`). `node_id`'s `-1` means "not
    /// set"; `repmgrd_standby_startup_timeout`'s `-1` means "same as `standby_reconnect_timeout`".
    public let defaultValue: ConfigValue
    /// A running keeld applies a new value on SIGHUP (repmgrd's reloadable set,
    /// `R:doc/repmgrd-configuration.xml`).
    public let reloadable: Bool
    public let area: Area
    /// For a deprecated key: the key that replaced it, if one did (`node` → `node_id`).
    public let deprecatedReplacement: String?
    /// One line of documentation; for a deprecated key, the warning text repmgr prints.
    public let doc: String
    /// When the key is not set, its value is that of this other key instead of `defaultValue`
    /// (`repmgrd_standby_startup_timeout` → `standby_reconnect_timeout`, as `R:configfile.c` does).
    public let defaultsToKey: String?

    /// A table row; see the properties for the meaning of each argument.
    public init(
        name: String, kind: Kind, defaultValue: ConfigValue, reloadable: Bool = false, area: Area,
        deprecatedReplacement: String? = nil, defaultsToKey: String? = nil, doc: String
    ) {
        self.defaultsToKey = defaultsToKey
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.reloadable = reloadable
        self.area = area
        self.deprecatedReplacement = deprecatedReplacement
        self.doc = doc
    }

    /// The smallest accepted value of an integer setting, else `nil`.
    public var minimum: Int? {
        if case .integer(let minimum) = kind { return minimum }
        return nil
    }

    /// The accepted values of an enumerated setting, else `nil`.
    public var allowedValues: [String]? {
        if case .enumeration(let allowed, _) = kind { return allowed }
        return nil
    }

    /// True for the keys repmgr 5 no longer reads (a warning, the value is ignored).
    public var isDeprecated: Bool { area == .deprecated }
}

// MARK: - Reading one value

extension ConfigSetting {
    /// The result of reading one raw value against this row.
    enum Conversion: Equatable {
        /// The typed value (for a list kind: the items this line adds).
        case value(ConfigValue)
        /// Why the value is rejected, starting `invalid value "…": …`.
        case invalid(String)
    }

    /// Reads `raw` (the de-escaped value of one line) as this setting's type.
    func convert(_ raw: String) -> Conversion {
        switch kind {
        case .integer(let minimum):
            switch Self.parseInteger(raw) {
            case .none:
                return .invalid("invalid value \"\(raw)\": expected an integer")
            case .some(nil):
                return .invalid("invalid value \"\(raw)\": must be a signed 32-bit integer, i.e. 2147483647 or less")
            case .some(let value?):
                if value < minimum { return .invalid("invalid value \"\(raw)\": must be \(minimum) or greater") }
                return .value(.int(value))
            }
        case .boolean:
            guard let value = Self.parseBool(raw) else {
                return .invalid("invalid value \"\(raw)\": expected a boolean (on/off, true/false, yes/no, 1/0)")
            }
            return .value(.bool(value))
        case .string(let maxLength):
            if let maxLength, raw.utf8.count > maxLength {
                return .invalid("value is too long: \(raw.utf8.count) characters, at most \(maxLength) allowed")
            }
            return .value(.string(raw))
        case .path:
            return .value(.string(ConfigPath.canonicalize(raw)))
        case .interval:
            guard Self.isInterval(raw) else {
                return .invalid(
                    "invalid value \"\(raw)\": must be a non-negative integer with an optional unit ms, s, min, h or d")
            }
            return .value(.string(raw))
        case .enumeration(let allowed, let caseSensitive):
            let match = allowed.first {
                caseSensitive ? $0 == raw : $0.lowercased() == raw.lowercased()
            }
            guard let match else {
                return .invalid("invalid value \"\(raw)\": must be \(Self.alternatives(allowed))")
            }
            return .value(.string(match))
        case .list(let commaSeparated):
            if commaSeparated { return .value(.list(Self.parseCommaList(raw))) }
            if raw.isEmpty { return .value(.list([])) }
            if let problem = TablespaceMapping.problem(in: raw) {
                return .invalid("invalid value \"\(raw)\": \(problem)")
            }
            return .value(.list([raw]))
        }
    }

    /// An integer as PostgreSQL's `parse_int` reads one without a unit: blanks, optional sign, decimal
    /// digits (or `0x` and hex digits), blanks. Anything else after the digits (`10s`, `1.5`,
    /// `12 apples`) is not an integer: repmgr's `strtol` read stops there silently, Keel refuses it.
    /// Returns `nil` when not an integer, `.some(nil)` when outside 32 bits.
    static func parseInteger(_ raw: String) -> Int?? {
        let bytes = Array(raw.utf8)
        var i = 0
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains(bytes[i]) { i += 1 }
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        var radix = 10
        if i + 2 < bytes.count, bytes[i] == UInt8(ascii: "0"),
            bytes[i + 1] == UInt8(ascii: "x") || bytes[i + 1] == UInt8(ascii: "X"),
            hexDigit(bytes[i + 2]) != nil
        {
            radix = 16
            i += 2
        }
        var value = 0
        var digits = 0
        var overflow = false
        while i < bytes.count, let digit = radix == 16 ? hexDigit(bytes[i]) : decimalDigit(bytes[i]) {
            if !overflow {
                value = value * radix + digit
                if value > Int(Int32.max) + 1 { overflow = true }
            }
            digits += 1
            i += 1
        }
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains(bytes[i]) { i += 1 }
        guard digits > 0, i == bytes.count else { return nil }
        let signed = negative ? -value : value
        if overflow || signed > Int(Int32.max) || signed < Int(Int32.min) { return .some(nil) }
        return .some(signed)
    }

    private static func decimalDigit(_ b: UInt8) -> Int? {
        b >= 0x30 && b <= 0x39 ? Int(b - 0x30) : nil
    }

    private static func hexDigit(_ b: UInt8) -> Int? {
        switch b {
        case 0x30...0x39: Int(b - 0x30)
        case 0x41...0x46: Int(b - 0x41 + 10)
        case 0x61...0x66: Int(b - 0x61 + 10)
        default: nil
        }
    }

    /// repmgr's `parse_bool`: exactly `0 1 false true off on no yes`, case-insensitive.
    static func parseBool(_ raw: String) -> Bool? {
        switch raw.lowercased() {
        case "1", "true", "on", "yes": true
        case "0", "false", "off", "no": false
        default: nil
        }
    }

    /// repmgr's `parse_time_unit_parameter`: empty, or digits with an optional unit.
    static func isInterval(_ raw: String) -> Bool {
        if raw.isEmpty { return true }
        let digits = raw.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return false }
        return ["", "ms", "s", "min", "h", "d"].contains(String(raw.dropFirst(digits.count)))
    }

    /// repmgr's `parse_event_notifications_list`: blanks are dropped, commas split, empty items
    /// are ignored.
    static func parseCommaList(_ raw: String) -> [String] {
        raw.filter { $0 != " " && $0 != "\t" }
            .split(separator: ",", omittingEmptySubsequences: true)
            .map(String.init)
    }

    private static func alternatives(_ values: [String]) -> String {
        let quoted = values.map { "\"\($0)\"" }
        switch quoted.count {
        case 1: return quoted[0]
        case 2: return "\(quoted[0]) or \(quoted[1])"
        default: return "one of " + quoted.joined(separator: ", ")
        }
    }
}

/// One `tablespace_mapping` entry, `OLDDIR=NEWDIR` with `\=` standing for a literal `=`
/// (repmgr's `tablespace_list_append`; passed to `pg_basebackup --tablespace-mapping`).
public struct TablespaceMapping: Sendable, Equatable {
    /// The tablespace directory on the source node (`\=` resolved to `=`).
    public var oldDirectory: String
    /// Where the clone puts it.
    public var newDirectory: String

    /// Splits `OLDDIR=NEWDIR` at the first `=` not preceded by a backslash; `nil` if malformed.
    public init?(_ text: String) {
        guard Self.problem(in: text) == nil else { return nil }
        let (old, new) = Self.split(text)
        self.oldDirectory = old
        self.newDirectory = new ?? ""
    }

    /// Why `text` is not a valid mapping, or `nil`.
    static func problem(in text: String) -> String? {
        var separators = 0
        var previous: Character? = nil
        for character in text {
            if character == "=" && previous != "\\" { separators += 1 }
            previous = character
        }
        if separators > 1 { return "multiple \"=\" signs in tablespace mapping" }
        let (old, new) = split(text)
        if old.isEmpty || (new ?? "").isEmpty { return "must be \"OLDDIR=NEWDIR\"" }
        return nil
    }

    private static func split(_ text: String) -> (String, String?) {
        var old = ""
        var new: String? = nil
        let characters = Array(text)
        var i = 0
        while i < characters.count {
            let c = characters[i]
            if c == "\\", i + 1 < characters.count, characters[i + 1] == "=" {
                if new == nil { old.append("=") } else { new!.append("=") }
                i += 2
                continue
            }
            if c == "=", new == nil {
                new = ""
            } else if new == nil {
                old.append(c)
            } else {
                new!.append(c)
            }
            i += 1
        }
        return (old, new)
    }
}
