import KeelCore

/// One result row: values by column name, with typed accessors that return `nil` for NULL or a type mismatch.
public struct Row: Sendable {
    public let columns: [String]
    public let values: [PostgresValue]

    public subscript(_ column: String) -> PostgresValue {
        guard let i = columns.firstIndex(of: column) else { return .null }
        return values[i]
    }

    public func string(_ column: String) -> String? { self[column].text }

    public func int(_ column: String) -> Int? {
        switch self[column] {
        case .int(let i): Int(i)
        case .text(let s): Int(s)
        default: nil
        }
    }

    public func bool(_ column: String) -> Bool? {
        if case .bool(let b) = self[column] { return b }
        return nil
    }

    public func lsn(_ column: String) -> LSN? {
        switch self[column] {
        case .lsn(let l): l
        case .text(let s): LSN(s)
        default: nil
        }
    }

    public func double(_ column: String) -> Double? {
        switch self[column] {
        case .double(let d): d
        case .int(let i): Double(i)
        default: nil
        }
    }
}
