/// A PostgreSQL write-ahead-log position (`pg_lsn`), a byte offset into the WAL stream.
/// Text form `XXXXXXXX/XXXXXXXX` (high and low 32 bits in hex), as PostgreSQL prints it.
public struct LSN: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Byte position in the WAL.
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// Parses `"16/B374D848"`; `nil` for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let hi = UInt32(parts[0], radix: 16), let lo = UInt32(parts[1], radix: 16) else { return nil }
        value = UInt64(hi) << 32 | UInt64(lo)
    }

    public static let zero = LSN(0)

    public var description: String {
        let hi = String(UInt32(truncatingIfNeeded: value >> 32), radix: 16, uppercase: true)
        let lo = String(UInt32(truncatingIfNeeded: value), radix: 16, uppercase: true)
        return "\(hi)/\(lo)"
    }

    public static func < (a: LSN, b: LSN) -> Bool { a.value < b.value }

    /// Bytes from `other` up to `self`, 0 when `other` is ahead.
    public func bytes(after other: LSN) -> UInt64 { value > other.value ? value - other.value : 0 }
}
