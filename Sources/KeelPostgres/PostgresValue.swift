import KeelCore

/// A parameter bound to a query (`$1`, `$2` …), sent in text format; `nil` binds SQL NULL.
public protocol PostgresParameter: Sendable {
    /// The text form PostgreSQL parses for this value.
    var postgresText: String { get }
}

extension String: PostgresParameter { public var postgresText: String { self } }
extension Int: PostgresParameter { public var postgresText: String { String(self) } }
extension Int32: PostgresParameter { public var postgresText: String { String(self) } }
extension Int64: PostgresParameter { public var postgresText: String { String(self) } }
extension Bool: PostgresParameter { public var postgresText: String { self ? "t" : "f" } }
extension Double: PostgresParameter { public var postgresText: String { String(self) } }
extension LSN: PostgresParameter { public var postgresText: String { description } }
extension NodeType: PostgresParameter { public var postgresText: String { rawValue } }

/// One value of a result row, decoded from PostgreSQL's text output by the column's type OID.
public enum PostgresValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case lsn(LSN)
    case text(String)

    /// Decodes `text` of a column of type `oid` (`pg_type.oid`: 16 bool, 20/21/23/26 integers,
    /// 700/701 floats, 3220 pg_lsn; everything else stays text).
    init(text: String, oid: UInt32) {
        switch oid {
        case 16: self = .bool(text == "t")
        case 20, 21, 23, 26, 28: self = Int64(text).map(PostgresValue.int) ?? .text(text)
        case 700, 701, 1700: self = Double(text).map(PostgresValue.double) ?? .text(text)
        case 3220: self = LSN(text).map(PostgresValue.lsn) ?? .text(text)
        default: self = .text(text)
        }
    }

    /// The value as text (`nil` for NULL); numbers and LSNs in PostgreSQL's text form.
    public var text: String? {
        switch self {
        case .null: nil
        case .bool(let b): b ? "t" : "f"
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .lsn(let l): l.description
        case .text(let s): s
        }
    }
}
