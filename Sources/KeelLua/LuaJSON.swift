#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// JSON for `keel.json.encode/decode`, event lines and `keel hook test --context FILE.json`.
///
/// Encoding is compact with object keys sorted (stable output, diff-friendly logs); an empty table
/// encodes as `{}` (Lua cannot tell an empty array from an empty object; lua-cjson does the same);
/// NaN and infinities encode as `null`; `.opaque` values as their type name in a string. Decoding maps
/// `null` to `.null` (so the field is absent once in Lua), integers that fit in 64 bits to `.integer`,
/// other numbers to `.number`.
public enum LuaJSON {
    /// Errors of `decode`: the text is not JSON (the decoder's message).
    public struct DecodeError: Error, Sendable, CustomStringConvertible {
        /// What the JSON decoder reported.
        public var message: String
        /// `invalid JSON: …`.
        public var description: String { "invalid JSON: \(message)" }
    }

    /// The compact JSON text of `value`.
    public static func encode(_ value: LuaValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    /// Parses `text` (any JSON value at top level). Throws `DecodeError`.
    public static func decode(_ text: String) throws(DecodeError) -> LuaValue {
        do {
            return try JSONDecoder().decode(LuaValue.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw DecodeError(message: describe(error))
        } catch {
            throw DecodeError(message: "\(error)")
        }
    }

    private static func write(_ value: LuaValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .boolean(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .number(let d): out += d.isFinite ? number(d) : "null"
        case .string(let s): out += quote(s)
        case .opaque(let type): out += quote(type)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case .table(let fields):
            out += "{"
            for (i, key) in fields.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                out += quote(key)
                out += ":"
                write(fields[key]!, to: &out)
            }
            out += "}"
        }
    }

    /// A number as Lua's `%.14g` would print it (integral values without a fraction: `2.0` → `2`).
    static func number(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return String(cFormat: "%.14g", d)
    }

    /// `s` as a JSON string literal (control characters, `"` and `\` escaped; other characters as is).
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += String(cFormat: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context):
            (context.underlyingError.map { "\($0)" } ?? context.debugDescription)
        default:
            "\(error)"
        }
    }
}

extension LuaValue: Codable {
    /// Decodes any JSON value (see `LuaJSON`).
    public init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            var items: [LuaValue] = []
            while !array.isAtEnd { items.append(try array.decode(LuaValue.self)) }
            self = .array(items)
            return
        }
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            var fields: [String: LuaValue] = [:]
            for key in object.allKeys {
                let value = try object.decode(LuaValue.self, forKey: key)
                if value != .null { fields[key.stringValue] = value }
            }
            self = .table(fields)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let b = try? single.decode(Bool.self) { self = .boolean(b) }
        else if let i = try? single.decode(Int64.self) { self = .integer(i) }
        else if let d = try? single.decode(Double.self) { self = .number(d) }
        else { self = .string(try single.decode(String.self)) }
    }

    /// Encodes as the JSON value `LuaJSON.encode` writes (NaN/infinity as null).
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .boolean(let b): var c = encoder.singleValueContainer(); try c.encode(b)
        case .integer(let i): var c = encoder.singleValueContainer(); try c.encode(i)
        case .number(let d):
            var c = encoder.singleValueContainer()
            if d.isFinite { try c.encode(d) } else { try c.encodeNil() }
        case .string(let s): var c = encoder.singleValueContainer(); try c.encode(s)
        case .opaque(let t): var c = encoder.singleValueContainer(); try c.encode(t)
        case .array(let items): var c = encoder.unkeyedContainer(); for item in items { try c.encode(item) }
        case .table(let fields):
            var c = encoder.container(keyedBy: AnyKey.self)
            for (k, v) in fields { try c.encode(v, forKey: AnyKey(stringValue: k)) }
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
