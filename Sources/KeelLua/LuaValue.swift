/// A Lua value as Swift sees it: what a hook receives as its context table and what it returns.
///
/// Conversion from Lua (`LuaState.value(at:)`): `nil` → `.null`; booleans; integers (Lua 5.4 subtype) →
/// `.integer`; other numbers → `.number`; strings (bytes, decoded as UTF-8 with invalid sequences
/// replaced) → `.string`; a table whose keys are exactly `1…n` (n ≥ 1) → `.array`; any other table →
/// `.table` with keys rendered as strings (`tostring` of numbers, `true`/`false`); functions, userdata
/// and coroutines → `.opaque(typeName)`. Tables nested deeper than `LuaValue.maxDepth`, or that contain
/// themselves, become `.opaque("table")`.
///
/// Conversion to Lua: `.array` → a sequence `{v1, v2, …}`, `.table` → a table with string keys,
/// `.opaque` → its type name as a string, `.null` → `nil` (so a `.null` field is simply absent).
public enum LuaValue: Sendable, Hashable {
    /// `nil`.
    case null
    /// `true` / `false`.
    case boolean(Bool)
    /// An integer (Lua 5.4's integer subtype, 64 bits).
    case integer(Int64)
    /// A float.
    case number(Double)
    /// A string (UTF-8).
    case string(String)
    /// A sequence `{v1, v2, …}` (0-based here, 1-based in Lua).
    case array([LuaValue])
    /// A table with string keys.
    case table([String: LuaValue])
    /// A function, userdata or coroutine, by its Lua type name (it cannot leave the VM).
    case opaque(String)

    /// Deepest table nesting converted from Lua (deeper levels become `.opaque("table")`).
    public static let maxDepth = 64

    /// The field `key` of a `.table` (`.null` for anything else or a missing key).
    public subscript(_ key: String) -> LuaValue {
        if case .table(let fields) = self { return fields[key] ?? .null }
        return .null
    }

    /// The element at `index` (0-based) of an `.array` (`.null` when out of range or not an array).
    public subscript(_ index: Int) -> LuaValue {
        if case .array(let items) = self, items.indices.contains(index) { return items[index] }
        return .null
    }

    /// The string of a `.string`; `nil` otherwise.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer of an `.integer`, or of a `.number` with an integral value; `nil` otherwise.
    public var intValue: Int? {
        switch self {
        case .integer(let i): Int(exactly: i)
        case .number(let d): Int(exactly: d)
        default: nil
        }
    }

    /// The number of an `.integer` or `.number`; `nil` otherwise.
    public var doubleValue: Double? {
        switch self {
        case .integer(let i): Double(i)
        case .number(let d): d
        default: nil
        }
    }

    /// The boolean of a `.boolean`; `nil` otherwise.
    public var boolValue: Bool? {
        if case .boolean(let b) = self { return b }
        return nil
    }

    /// True for `.null`.
    public var isNull: Bool { self == .null }

    /// Lua's truthiness: everything but `nil` and `false` is true.
    public var isTruthy: Bool {
        switch self {
        case .null, .boolean(false): false
        default: true
        }
    }

    /// `.table` from pairs whose value is not `nil` (optional Swift values become absent fields).
    public static func fields(_ pairs: [(String, LuaValue?)]) -> LuaValue {
        var table: [String: LuaValue] = [:]
        for (key, value) in pairs { if let value, value != .null { table[key] = value } }
        return .table(table)
    }
}

extension LuaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    /// `"text"` → `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// `42` → `.integer`.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// `true` → `.boolean`.
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    /// `1.5` → `.number`.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// `[a, b]` → `.array`.
    public init(arrayLiteral elements: LuaValue...) { self = .array(elements) }
    /// `["k": v]` → `.table` (`nil` values dropped).
    public init(dictionaryLiteral elements: (String, LuaValue)...) {
        self = .fields(elements.map { ($0.0, $0.1) })
    }
    /// `nil` → `.null`.
    public init(nilLiteral: ()) { self = .null }
}

extension LuaValue: CustomStringConvertible {
    /// Lua-like rendering for people: `nil`, `true`, `42`, `"text"` (quoted), tables as JSON.
    public var description: String {
        switch self {
        case .null: "nil"
        case .boolean(let b): b ? "true" : "false"
        case .integer(let i): String(i)
        case .number(let d): LuaJSON.number(d)
        case .string(let s): LuaJSON.quote(s)
        case .array, .table: LuaJSON.encode(self)
        case .opaque(let type): "<\(type)>"
        }
    }
}
