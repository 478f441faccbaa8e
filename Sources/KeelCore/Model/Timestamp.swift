#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Local wall-clock timestamps for log lines and events, formatted with the C library (`strftime`), not
/// Foundation's formatters: keeld stays small (no ICU data touched) and the text is the same everywhere.
public enum Timestamp {
    /// `YYYY-MM-DD HH:MM:SS` now (log lines), or with `zone` the numeric offset appended (`+0000`),
    /// repmgr's `%t` form.
    public static func now(zone: Bool = false) -> String {
        var t = time(nil)
        var parts = tm()
        localtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, zone ? "%Y-%m-%d %H:%M:%S%z" : "%Y-%m-%d %H:%M:%S", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
