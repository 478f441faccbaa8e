#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One `name = value` line, after includes are resolved: what the settings table is applied to.
struct ConfigAssignment: Sendable, Equatable {
    var name: String
    var value: String
    var location: ConfigLocation
}

/// Reads the lines of a configuration file into `ConfigAssignment`s, following `include`,
/// `include_if_exists` and `include_dir`, as PostgreSQL's `ParseConfigFp` / `ParseConfigFile` /
/// `ParseConfigDirectory` do (`guc-file.l`; copied by repmgr 5.2+ in `configfile-scan.l`).
///
/// Grammar of a line: `name [=] value` then end of line; `name` is an identifier or a qualified
/// identifier (`a.b`); `value` an identifier, unquoted string, integer, real or quoted string.
/// A line that does not fit is a syntax error ("near token" / "near end of line"); the reader
/// reports it and resumes at the next line, giving up on a file after 100 syntax errors.
/// Directive names are matched case-insensitively; relative paths are resolved against the
/// directory of the including file; nesting deeper than 10 levels or including a file that is
/// already being read (direct or indirect recursion) is an error.
struct ConfigFileReader {
    /// `CONF_FILE_MAX_DEPTH` in PostgreSQL.
    static let maximumDepth = 10
    /// PostgreSQL abandons a file after this many syntax errors.
    static let maximumSyntaxErrors = 100

    /// What the reader found, in file order (includes expanded in place): settings and the
    /// problems met between them, so that diagnostics keep the order of the lines.
    enum Entry: Sendable, Equatable {
        case assignment(ConfigAssignment)
        case diagnostic(ConfigDiagnostic)
    }

    private(set) var entries: [Entry] = []
    private var openFiles: [String] = []

    init() {}

    /// The settings read, in order.
    var assignments: [ConfigAssignment] {
        entries.compactMap { if case .assignment(let a) = $0 { a } else { nil } }
    }

    /// Records an error at its place among the settings.
    private mutating func error(_ file: String, _ line: Int?, _ key: String?, _ message: String) {
        entries.append(.diagnostic(ConfigDiagnostic(.error, file: file, line: line, key: key, message: message)))
    }

    /// Reads the file at `path` (absolute) from disk. A file that cannot be read is an error
    /// naming `reportedAt` (the including line) or, for the top-level file, the file itself.
    /// - Returns: false when the file could not be read (an error is recorded).
    @discardableResult
    mutating func readFile(_ path: String, depth: Int = 0, reportedAt: ConfigLocation? = nil, key: String? = nil) -> Bool {
        let special = Self.notReadableAsText(path)
        guard special == nil, let data = FileManager.default.contents(atPath: path) else {
            let reason = special ?? Self.unreadableReason(path)
            if let reportedAt {
                error(reportedAt.file, reportedAt.line, key, "could not open configuration file \"\(path)\": \(reason)")
            } else {
                error(path, nil, nil, "could not open configuration file: \(reason)")
            }
            return false
        }
        read(bytes: Array(data), file: path, depth: depth)
        return true
    }

    /// Reads `text` as the content of `file` (absolute; includes are resolved relative to it).
    mutating func read(text: String, file: String) {
        read(bytes: Array(text.utf8), file: file, depth: 0)
    }

    private mutating func read(bytes: [UInt8], file: String, depth: Int) {
        openFiles.append(file)
        defer { openFiles.removeLast() }

        var lexer = ConfigLexer(bytes: bytes)
        var syntaxErrors = 0
        var token = lexer.next()
        lines: while token.kind != .endOfFile {
            if token.kind == .endOfLine {
                token = lexer.next()
                continue
            }
            var name: String? = nil
            var syntaxError: (token: ConfigToken, hint: String?)? = nil
            parseLine: do {
                guard token.kind == .identifier || token.kind == .qualifiedID else {
                    syntaxError = (token, nil)
                    break parseLine
                }
                let nameToken = token
                name = nameToken.textString
                token = lexer.next()
                if token.kind == .equals { token = lexer.next() }
                guard token.isValue else {
                    syntaxError = (token, Self.hintForMissingValue(token))
                    break parseLine
                }
                let valueToken = token
                token = lexer.next()
                guard token.kind == .endOfLine || token.kind == .endOfFile else {
                    let hint = valueToken.kind == .quotedString
                        ? nil
                        : "a value holding spaces, \"=\" or quotes must be single-quoted"
                    syntaxError = (token, hint)
                    break parseLine
                }
                let location = ConfigLocation(file: file, line: nameToken.line)
                process(name: nameToken.textString, value: valueToken.value, at: location, depth: depth)
            }
            if let syntaxError {
                let bad = syntaxError.token
                var message: String
                if bad.kind == .endOfLine || bad.kind == .endOfFile {
                    message = "syntax error near end of line"
                } else {
                    message = "syntax error near token \"\(bad.textString)\""
                }
                if let hint = syntaxError.hint { message += " (\(hint))" }
                error(file, bad.line, name, message)
                syntaxErrors += 1
                if syntaxErrors >= Self.maximumSyntaxErrors {
                    error(file, nil, nil, "too many syntax errors found, abandoning file")
                    break lines
                }
                // resynchronise at the next end of line
                while token.kind != .endOfLine && token.kind != .endOfFile { token = lexer.next() }
            }
            if token.kind == .endOfLine { token = lexer.next() }
        }
    }

    /// An ordinary setting is recorded; a directive is followed.
    private mutating func process(name: String, value: String, at location: ConfigLocation, depth: Int) {
        switch name.lowercased() {
        case "include":
            include(value, at: location, key: name, depth: depth + 1, strict: true)
        case "include_if_exists":
            include(value, at: location, key: name, depth: depth + 1, strict: false)
        case "include_dir":
            includeDirectory(value, at: location, key: name, depth: depth + 1)
        default:
            entries.append(.assignment(ConfigAssignment(name: name, value: value, location: location)))
        }
    }

    private mutating func include(_ target: String, at location: ConfigLocation, key: String, depth: Int, strict: Bool) {
        guard !target.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }) else {
            error(location.file, location.line, key, "empty configuration file name: \"\(target)\"")
            return
        }
        let path = ConfigPath.absolute(target, relativeTo: ConfigPath.directory(of: location.file))
        guard depth <= Self.maximumDepth else {
            error(location.file, location.line, key,
                      "could not open configuration file \"\(path)\": maximum nesting depth exceeded")
            return
        }
        guard !openFiles.contains(path) else {
            error(location.file, location.line, key, "configuration file recursion in \"\(path)\"")
            return
        }
        if !strict && !FileManager.default.fileExists(atPath: path) {
            return  // PostgreSQL: LOG "skipping missing configuration file"
        }
        readFile(path, depth: depth, reportedAt: location, key: key)
    }

    private mutating func includeDirectory(_ target: String, at location: ConfigLocation, key: String, depth: Int) {
        guard !target.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }) else {
            error(location.file, location.line, key, "empty configuration directory name: \"\(target)\"")
            return
        }
        let directory = ConfigPath.absolute(target, relativeTo: ConfigPath.directory(of: location.file))
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory,
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory)
        else {
            let reason = FileManager.default.fileExists(atPath: directory) && !isDirectory
                ? "Not a directory" : Self.unreadableReason(directory)
            error(location.file, location.line, key,
                      "could not open configuration directory \"\(directory)\": \(reason)")
            return
        }
        let files = names
            .filter { !$0.hasPrefix(".") && $0.hasSuffix(".conf") }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .map { directory == "/" ? "/" + $0 : directory + "/" + $0 }
            .filter { path in
                var isDir = false
                return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir
            }
        for file in files {
            include(file, at: location, key: key, depth: depth, strict: true)
        }
    }

    private static func hintForMissingValue(_ token: ConfigToken) -> String? {
        switch token.kind {
        case .endOfLine, .endOfFile: "missing value"
        case .error where token.text == [UInt8(ascii: "'")]: "unterminated quoted string"
        case .error: "a value that is not a plain word or number must be single-quoted"
        default: nil
        }
    }

    /// Largest configuration file Keel reads (bytes).
    static let sizeLimit = 16 * 1024 * 1024

    /// Why `path` (which exists) cannot be a configuration file, before reading it: not a regular file
    /// (`/dev/zero`, a FIFO, a socket) or larger than `sizeLimit`. `nil` when it may be read (or does not exist).
    private static func notReadableAsText(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            return info.st_size > sizeLimit ? "file is larger than \(sizeLimit / 1024 / 1024) MB" : nil
        case S_IFDIR: return nil
        case S_IFCHR, S_IFBLK: return "not a regular file (a device)"
        case S_IFIFO: return "not a regular file (a FIFO)"
        default: return "not a regular file"
        }
    }

    private static func unreadableReason(_ path: String) -> String {
        var isDirectory = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            return "No such file or directory"
        }
        if isDirectory { return "Is a directory" }
        return "Permission denied"
    }
}
