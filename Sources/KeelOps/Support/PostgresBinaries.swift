#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// Where PostgreSQL's programs (`pg_basebackup`, `pg_ctl`, `pg_rewind` …) are found: `--pg_bindir` or
/// `pg_bindir` when set (as repmgr), else the first `PATH` entry holding the program, else Debian's
/// `/usr/lib/postgresql/<major>/bin` for the server's major version.
public struct PostgresBinaries: Sendable {
    public let bindir: String
    public let majorVersion: Int?

    public init(bindir: String, majorVersion: Int? = nil) {
        self.bindir = bindir
        self.majorVersion = majorVersion
    }

    /// The absolute path of `program`; throws `KeelError` (exit 13) when it is nowhere to be found.
    public func path(_ program: String) throws -> String {
        let fm = FileManager.default
        if !bindir.isEmpty {
            let candidate = PathString.join(bindir, program)
            guard fm.isExecutableFile(atPath: candidate) else {
                throw KeelError(.systemFailure, "\"\(program)\" not found in pg_bindir \"\(bindir)\"")
            }
            return candidate
        }
        let pathDirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        var dirs = pathDirs
        if let majorVersion { dirs.append("/usr/lib/postgresql/\(majorVersion)/bin") }
        dirs.append(contentsOf: ["/usr/lib/postgresql/18/bin", "/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"])
        for dir in dirs {
            let candidate = PathString.join(dir, program)
            // Debian's /usr/bin wrappers pick a cluster of their own: prefer the versioned directory.
            if dir == "/usr/bin", program != "pg_basebackup", program != "psql" { continue }
            if fm.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw KeelError(.systemFailure, "\"\(program)\" not found", hint: "set \"pg_bindir\" in the configuration file or use --pg_bindir")
    }
}
