#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

// String helpers Keel used from Foundation's full module (which it does not link): C-style number
// formatting, trimming, and path components.

extension String {
    /// `format` rendered by C's `vsnprintf` with `arguments` (`%.1f`, `%5.2f`, `%ld`, `%04x`, …): the
    /// subset of Foundation's `String(format:)` Keel uses, without its `%@`.
    public init(cFormat format: String, _ arguments: CVarArg...) {
        var capacity = 128
        while true {
            var buffer = [CChar](repeating: 0, count: capacity)
            let written = withVaList(arguments) { vsnprintf(&buffer, capacity, format, $0) }
            if written < 0 { self = ""; return }
            if Int(written) < capacity {
                self = String(decoding: buffer.prefix(Int(written)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return
            }
            capacity = Int(written) + 1
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (Foundation's `.whitespaces`: tab and the
    /// Unicode space separators).
    public func trimmingSpaces() -> String {
        trimming { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
    }

    /// The text without leading and trailing white space and line breaks (Foundation's
    /// `.whitespacesAndNewlines`).
    public func trimmingWhitespace() -> String {
        trimming { scalar in
            switch scalar.value {
            case 0x09...0x0D, 0x85: return true
            default:
                switch scalar.properties.generalCategory {
                case .spaceSeparator, .lineSeparator, .paragraphSeparator: return true
                default: return false
                }
            }
        }
    }

    /// The text without leading and trailing scalars for which `strip` holds.
    public func trimming(_ strip: (Unicode.Scalar) -> Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !strip($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !strip($0) })!
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[first...last])
        return String(view)
    }
}

/// Path-string operations on `/`-separated paths, as Foundation's `NSString` path methods behave for
/// the paths Keel builds.
public enum PathString {
    /// `base` + "/" + `component`, with no doubled separator; `component` alone when `base` is empty.
    public static func join(_ base: String, _ component: String) -> String {
        if base.isEmpty { return component }
        if component.isEmpty { return base }
        var head = Substring(base)
        while head.count > 1 && head.hasSuffix("/") { head = head.dropLast() }
        var tail = Substring(component)
        while tail.hasPrefix("/") { tail = tail.dropFirst() }
        return head == "/" ? "/" + tail : head + "/" + tail
    }

    /// The last component (`b` of `/a/b/`); "/" for "/"; the empty string for "".
    public static func lastComponent(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        if trimmed == "/" { return "/" }
        return String(trimmed.split(separator: "/", omittingEmptySubsequences: true).last ?? "")
    }

    /// The path without its last component (`/a` of `/a/b`, "/" of `/a`, "" of `a`).
    public static func deletingLastComponent(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        var parent = trimmed[..<slash]
        while parent.count > 1 && parent.hasSuffix("/") { parent = parent.dropLast() }
        return parent.isEmpty ? "/" : String(parent)
    }

    /// The path with `.` and empty components removed and, in an absolute path, each `..` taking away
    /// the component before it (a relative path keeps its `..`).
    public static func standardized(_ path: String) -> String {
        if path.isEmpty { return path }
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            if part == "..", absolute {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    /// The path with every symbolic link resolved (`realpath`); the path itself when it cannot be resolved.
    public static func resolvingSymlinks(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
