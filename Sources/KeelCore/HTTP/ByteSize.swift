/// A byte count as written in a query string or setting: `1048576`, `16MB`, `1GB` (units are
/// PostgreSQL's, powers of 1024: B, kB, MB, GB, TB; case-insensitive, the B optional).
public enum ByteSize {
    /// The number of bytes, or `nil` when `text` is not a byte count.
    public static func parse(_ text: String) -> Int64? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let number = Int64(digits) else { return nil }
        let unit = text.dropFirst(digits.count).lowercased()
        let shift: Int64
        switch unit {
        case "", "b": shift = 0
        case "k", "kb": shift = 10
        case "m", "mb": shift = 20
        case "g", "gb": shift = 30
        case "t", "tb": shift = 40
        default: return nil
        }
        let (value, overflow) = number.multipliedReportingOverflow(by: Int64(1) << shift)
        return overflow ? nil : value
    }
}
