/// Follows how `/bin/sh` reads a command template, one Unicode scalar at a time, so that `Placeholders`
/// knows the quoting context of each `%` placeholder: plain command text (also inside `$(…)`), single
/// quotes, double quotes, a comment, or a construct Keel does not follow precisely (backquotes, `$'…'`,
/// a parameter expansion `${…}`, anything after a here-document `<<`, a `case` inside `$(…)`), where values
/// are reduced to characters that mean the same everywhere. Inside `${…}` shells disagree on quotes (dash
/// opens a new double-quoted string at `"${X:-"`, bash does not), so no quoting there is safe.
struct ShellTemplateScanner {
    /// Where a placeholder stands.
    enum Context: Equatable {
        case command, single, double, comment, unfollowed
    }

    private enum Frame: Equatable {
        /// Command text: the template itself, or `$(…)` (`nested`) with its open parentheses.
        case command(parens: Int, nested: Bool)
        case single, double, comment, backquote, dollarSingle
        /// A parameter expansion `${…}`, up to its closing brace.
        case brace
    }

    private var stack: [Frame] = [.command(parens: 0, nested: false)]
    private var atWordStart = true
    /// Set for good once the template uses syntax Keel does not follow (here-document, `case` in `$(…)`).
    private var lost = false
    /// True once any construct of `Context.unfollowed` was seen.
    private(set) var sawUnfollowedSyntax = false

    /// The context of a placeholder at the current position.
    var context: Context {
        if lost || stack.contains(.backquote) || stack.contains(.dollarSingle) || stack.contains(.brace) { return .unfollowed }
        switch stack.last! {
        case .command: return .command
        case .single: return .single
        case .double: return .double
        case .comment: return .comment
        case .backquote, .dollarSingle, .brace: return .unfollowed
        }
    }

    /// False inside a comment: a placeholder there is left as written.
    var expandsPlaceholders: Bool { stack.last != .comment }

    /// Records that a placeholder's value (or `%%`) was just written: the current word has begun.
    mutating func wordStarted() { atWordStart = false }

    /// Reads the template text at `i` (one scalar, or two for an escape or a two-scalar token) and
    /// returns how many scalars it took.
    mutating func feed(_ s: [Unicode.Scalar], at i: Int) -> Int {
        let c = s[i]
        let next = i + 1 < s.count ? s[i + 1] : nil
        switch stack.last! {
        case .single:
            if c == "'" { stack.removeLast() }
            return 1
        case .comment:
            if c == "\n" { stack.removeLast(); atWordStart = true }
            return 1
        case .dollarSingle, .backquote:
            if c == "\\", next != nil { return 2 }
            if c == (stack.last == .backquote ? "`" : "'") { stack.removeLast() }
            return 1
        case .double:
            if c == "\\", let next, "$`\"\\\n".unicodeScalars.contains(next) { return 2 }
            if c == "\"" { stack.removeLast() }
            if c == "`" { push(.backquote) }
            if c == "$", next == "(" { stack.append(.command(parens: 0, nested: true)); atWordStart = true; return 2 }
            if c == "$", next == "{" { stack.append(.brace); return 2 }
            return 1
        case .brace:
            return feedBrace(c, next: next)
        case .command(let parens, let nested):
            return feedCommand(s, at: i, parens: parens, nested: nested)
        }
    }

    private mutating func feedCommand(_ s: [Unicode.Scalar], at i: Int, parens: Int, nested: Bool) -> Int {
        let c = s[i]
        let next = i + 1 < s.count ? s[i + 1] : nil
        let wasWordStart = atWordStart
        atWordStart = false
        switch c {
        case "\\": return next == nil ? 1 : 2
        case "'": stack.append(.single)
        case "\"": stack.append(.double)
        case "`": push(.backquote)
        case "$" where next == "'": push(.dollarSingle); return 2
        case "$" where next == "(": stack.append(.command(parens: 0, nested: true)); atWordStart = true; return 2
        case "$" where next == "{": stack.append(.brace); return 2
        case "#" where wasWordStart: stack.append(.comment)
        case "(": stack[stack.count - 1] = .command(parens: parens + 1, nested: nested); atWordStart = true
        case ")":
            if parens > 0 {
                stack[stack.count - 1] = .command(parens: parens - 1, nested: nested)
                atWordStart = true
            } else if nested {
                stack.removeLast()
            } else {
                atWordStart = true
            }
        case "<" where next == "<": lose(); return 2
        case " ", "\t", "\n", ";", "&", "|", "<", ">": atWordStart = true
        case "c" where wasWordStart && nested && startsCaseWord(s, at: i): lose()
        default: break
        }
        return 1
    }

    /// Inside `${…}`: quotes, escapes and nested expansions are followed only to find the closing brace.
    private mutating func feedBrace(_ c: Unicode.Scalar, next: Unicode.Scalar?) -> Int {
        switch c {
        case "\\": return next == nil ? 1 : 2
        case "'": stack.append(.single)
        case "\"": stack.append(.double)
        case "`": push(.backquote)
        case "$" where next == "{": stack.append(.brace); return 2
        case "$" where next == "(": stack.append(.command(parens: 0, nested: true)); atWordStart = true; return 2
        case "}": stack.removeLast()
        default: break
        }
        return 1
    }

    private mutating func push(_ frame: Frame) {
        stack.append(frame)
        sawUnfollowedSyntax = true
    }

    private mutating func lose() {
        lost = true
        sawUnfollowedSyntax = true
    }

    /// Whether the word at `i` is `case` (followed by a blank).
    private func startsCaseWord(_ s: [Unicode.Scalar], at i: Int) -> Bool {
        let word: [Unicode.Scalar] = ["c", "a", "s", "e"]
        guard i + word.count < s.count, Array(s[i..<(i + word.count)]) == word else { return false }
        return [" ", "\t", "\n"].contains(s[i + word.count])
    }
}

/// Finds a command in a template that hands its text to a second shell level.
enum SecondShell {
    /// Commands that run their argument text through a shell (on this or another host).
    static let reparsing: Set<String> = ["ssh", "eval", "su", "runuser", "xargs", "watch", "parallel"]
    /// Shells, for `SHELL -c …`.
    static let shells: Set<String> = ["sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "busybox"]

    /// The first such command (`ssh`, `sh -c`, …) in `template`, or `nil`.
    static func command(in template: String) -> String? {
        let separators = Set(" \t\n;&|()`\"'<>{}".unicodeScalars)
        let words = template.unicodeScalars.split(whereSeparator: { separators.contains($0) })
            .map { String(String.UnicodeScalarView($0)) }
        var shell: String?
        for word in words {
            let name = word.split(separator: "/").last.map(String.init) ?? word
            if reparsing.contains(name) { return name }
            if shells.contains(name) { shell = name; continue }
            if let shell, word.hasPrefix("-"), !word.hasPrefix("--"), word.dropFirst().contains("c") { return "\(shell) \(word)" }
        }
        return nil
    }
}
