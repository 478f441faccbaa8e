/// Expansion of repmgr's `%` placeholders in hook commands (`event_notification_command`,
/// `follow_command`, `failover_validation_command`, …), with each value quoted for `/bin/sh` according
/// to where the placeholder stands, so a value can never break out into shell syntax.
///
/// repmgr (`dbutils.c`, `strutil.c`) pastes values raw and only escapes `"` in `%d`; its docs advise
/// writing `"%d"`. Keel keeps such templates working. The template is read Unicode scalar by Unicode
/// scalar (every character the shell treats specially is ASCII, so a combining mark after a quote never
/// hides it) by `ShellTemplateScanner`, which follows the shell's own reading: quotes, backslashes,
/// comments and `$(…)` nesting. Then:
///
/// - a bare placeholder becomes one single-quoted word;
/// - inside double quotes its value is escaped for double quotes (`\ " $` and backquote);
/// - inside single quotes a quote in the value closes and reopens the quote around `'\''`;
/// - inside a comment it is left as written (nothing runs there);
/// - where Keel does not follow the shell's reading (inside backquotes, `$'…'`, a parameter expansion
///   `${…}`, after a here-document `<<` or a `case` inside `$(…)`), the value keeps only ASCII letters, digits and `_.,:@+=/-`
///   (any other character becomes `_`): such a value means the same in every shell context.
///
/// `%%` is a literal `%`; `%` followed by anything that is not a placeholder letter is a literal `%`,
/// and the character after it is read again as template text. A NUL character cannot be part of a
/// command line and is dropped (from values and from the template).
///
/// Quoting protects one shell level only: a template that hands values to a second shell (`ssh host
/// "… %d"`, `sh -c "… %a"`, `eval`) lets that shell read them as commands; `secondLevelWarning` names
/// such templates, and Keel warns about them at start.
public enum Placeholders {
    /// Expands `template`, taking values from `values` keyed by the placeholder letter (`"n"`, `"e"`, …).
    /// A letter absent from `values` is left literally, as repmgr does.
    public static func expand(_ template: String, _ values: [Character: String]) -> String {
        var scanner = ShellTemplateScanner()
        var out = String.UnicodeScalarView()
        let scalars = Array(template.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == "%", scanner.expandsPlaceholders {
                let next = i + 1 < scalars.count ? scalars[i + 1] : nil
                if next == "%" {
                    out.append("%")
                    i += 2
                    scanner.wordStarted()
                    continue
                }
                if let next, let value = values[Character(next)] {
                    out.append(contentsOf: encode(value, in: scanner.context).unicodeScalars)
                    i += 2
                    scanner.wordStarted()
                    continue
                }
            }
            let taken = scanner.feed(scalars, at: i)
            out.append(contentsOf: scalars[i..<(i + taken)].filter { $0 != "\u{0}" })
            i += taken
        }
        return String(out)
    }

    /// One single-quoted shell word holding `value` exactly (NUL characters dropped).
    public static func shellQuote(_ value: String) -> String {
        "'" + closingSingleQuotes(value) + "'"
    }

    /// `value` bare when every Unicode scalar is an ASCII letter, digit or one of `-_./=:,@%+` (and it is not
    /// empty), else `shellQuote(value)`: one shell word holding `value` exactly.
    public static func quoteIfNeeded(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { isPlain($0) || $0 == "%" }
        return plain ? value : shellQuote(value)
    }

    /// Why `template` is unsafe for values even with Keel's quoting, or `nil`: it hands values to a second
    /// shell level (`ssh`, `sh -c`, `eval`, `su`, …), or it places them where Keel reduces them to plain
    /// characters (backquotes, `$'…'`, here-documents). `letters` are the placeholder letters of its key.
    public static func secondLevelWarning(_ template: String, letters: Set<Character>) -> String? {
        let scalars = Array(template.unicodeScalars)
        let placeholders = zip(scalars, scalars.dropFirst()).contains { $0 == "%" && letters.contains(Character($1)) }
        guard placeholders else { return nil }
        if let word = SecondShell.command(in: template) {
            return "placeholders pass through a second shell level (\"\(word)\"): Keel quotes values for /bin/sh only, "
                + "so a value can run commands on that level; pass them as arguments of a script instead"
        }
        var scanner = ShellTemplateScanner()
        var reduced = false
        var i = 0
        while i < scalars.count {
            if scalars[i] == "%", i + 1 < scalars.count, letters.contains(Character(scalars[i + 1])),
               scanner.expandsPlaceholders, scanner.context == .unfollowed {
                reduced = true
            }
            i += scanner.feed(scalars, at: i)
        }
        if scanner.sawUnfollowedSyntax || reduced {
            return "placeholders inside backquotes, $'…', ${…}, a here-document or a case inside $(…) keep only ASCII "
                + "letters, digits and _.,:@+=/- (other characters become _); use $(…) and quotes instead"
        }
        return nil
    }

    /// `value` encoded for `context`.
    static func encode(_ value: String, in context: ShellTemplateScanner.Context) -> String {
        let value = withoutNUL(value)
        switch context {
        case .command: return shellQuote(value)
        case .single: return closingSingleQuotes(value)
        case .double:
            var out = String.UnicodeScalarView()
            for c in value.unicodeScalars {
                if c == "\\" || c == "\"" || c == "$" || c == "`" { out.append("\\") }
                out.append(c)
            }
            return String(out)
        case .unfollowed:
            return String(String.UnicodeScalarView(value.unicodeScalars.map { isPlain($0) ? $0 : "_" }))
        case .comment: return value
        }
    }

    /// ASCII letters, digits and `_.,:@+=/-`: characters with no meaning to the shell in any context.
    static func isPlain(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "_", ".", ",", ":", "@", "+", "=", "/", "-": true
        default: false
        }
    }

    /// `value` (NUL dropped) with each `'` — judged per Unicode scalar, so a combining mark after it does not
    /// hide it — written as `'\''` (close the quote, an escaped quote, reopen).
    static func closingSingleQuotes(_ value: String) -> String {
        var out = String.UnicodeScalarView()
        for c in value.unicodeScalars where c != "\u{0}" {
            if c == "'" { out.append(contentsOf: "'\\''".unicodeScalars) } else { out.append(c) }
        }
        return String(out)
    }

    static func withoutNUL(_ value: String) -> String {
        value.unicodeScalars.contains("\u{0}") ? String(String.UnicodeScalarView(value.unicodeScalars.filter { $0 != "\u{0}" })) : value
    }
}
