#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// Reads a data directory's control file with `pg_controldata` (from `pg_bindir`, run with `LC_ALL=C` so
/// that its labels are PostgreSQL's English ones), as repmgr's `get_db_state` and
/// `get_latest_checkpoint_location` do.
public enum ControlDataReader {
    /// The parsed control data of `dataDirectory`. Throws `KeelError` 13 when `pg_controldata` is missing,
    /// 1 when it fails (not a data directory, unreadable control file), with its message.
    public static func read(dataDirectory: String, pgBindir: String) async throws -> ControlData {
        let program = try PostgresBinaries(bindir: pgBindir).path("pg_controldata")
        let result = try await ProcessRunner.run(program, ["-D", dataDirectory], environment: ["LC_ALL": "C", "LANG": "C"], timeout: 30)
        guard result.succeeded else {
            throw KeelError(.badConfig, "unable to read the control file of data directory \"\(dataDirectory)\"",
                            detail: (result.stderr + result.stdout).trimmingWhitespace())
        }
        return ControlData(parsing: result.stdout)
    }
}
