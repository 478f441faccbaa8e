import Foundation

/// Expansion of repmgr's `%` placeholders in hook commands (`event_notification_command`,
/// `follow_command`, `failover_validation_command`, …), with each value quoted for the shell
/// according to where the placeholder stands, so a value can never break out into shell syntax.
///
/// repmgr (`dbutils.c`, `strutil.c`) pastes values raw and only escapes `"` in `%d`; its docs advise
/// writing `"%d"`. Keel keeps such templates working: inside double quotes a value is escaped for
/// double quotes (`\ " $` and backquote), inside single quotes it closes and reopens the quote around
/// `'\''`, and bare it becomes one single-quoted word. `%%` is a literal `%`; an unknown `%x` is kept as is.
public enum Placeholders {
    /// Expands `template`, taking values from `values` keyed by the placeholder letter (`"n"`, `"e"`, …).
    /// A letter absent from `values` is left literally, as repmgr does.
    public static func expand(_ template: String, _ values: [Character: String]) -> String {
        enum Quote { case none, single, double }
        var out = ""
        var state = Quote.none
        var chars = template.makeIterator()
        var escaped = false
        while let c = chars.next() {
            if escaped { out.append(c); escaped = false; continue }
            switch (c, state) {
            case ("\\", .none), ("\\", .double): out.append(c); escaped = true; continue
            case ("'", .none): state = .single
            case ("'", .single): state = .none
            case ("\"", .none): state = .double
            case ("\"", .double): state = .none
            default: break
            }
            guard c == "%" else { out.append(c); continue }
            guard let letter = chars.next() else { out.append(c); break }
            if letter == "%" { out.append("%"); continue }
            guard let value = values[letter] else { out.append(c); out.append(letter); continue }
            switch state {
            case .none: out += shellQuote(value)
            case .single: out += value.replacingOccurrences(of: "'", with: "'\\''")
            case .double:
                var v = ""
                for ch in value {
                    if "\\\"$`".contains(ch) { v.append("\\") }
                    v.append(ch)
                }
                out += v
            }
        }
        return out
    }

    /// One single-quoted shell word holding `value` exactly.
    public static func shellQuote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
