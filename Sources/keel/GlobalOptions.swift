import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelOps
import Logging

/// Options every `keel` command accepts (repmgr's global options), before or after the command words.
struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .long], help: "Configuration file (default: ./keel.conf, /etc/keel.conf, then repmgr.conf in the same places).")
    var configFile: String?

    @Option(name: [.customShort("h"), .long], help: "Host of the remote node (clone source, primary).")
    var host: String?
    @Option(name: [.customShort("p"), .long], help: "Port of the remote node.")
    var port: String?
    @Option(name: [.customShort("U"), .long], help: "Database user for the remote node.")
    var username: String?
    @Option(name: [.customShort("d"), .long], help: "Database name or conninfo string of the remote node.")
    var dbname: String?

    @Flag(name: .customLong("dry-run"), help: "Check prerequisites and print what would be done, change nothing.")
    var dryRun = false
    @Flag(name: [.customShort("F"), .long], help: "Override checks (meaning depends on the command).")
    var force = false
    @Flag(name: [.customShort("v"), .long], help: "Verbose output (DEBUG messages).")
    var verbose = false
    @Flag(name: [.customShort("q"), .long], help: "Only print errors.")
    var quiet = false
    @Flag(name: [.customShort("t"), .long], help: "Terse output (accepted for repmgr compatibility).")
    var terse = false
    @Option(name: [.customShort("L"), .long], help: "Log level: DEBUG, INFO, NOTICE, WARNING, ERROR (overrides log_level).")
    var logLevel: String?
    @Flag(name: .customLong("log-to-file"), help: "Write messages to log_file instead of stderr.")
    var logToFile = false
    @Flag(help: "CSV output.")
    var csv = false
    @Flag(help: "JSON output.")
    var json = false
    @Flag(help: "Omit wide columns (connection string, details).")
    var compact = false
    @Option(name: [.customShort("b"), .customLong("pg_bindir"), .customLong("pg-bindir")], help: "PostgreSQL binaries directory (overrides pg_bindir).")
    var pgBindir: String?

    var remote: RemoteNodeOptions { RemoteNodeOptions(host: host, port: port, user: username, dbname: dbname) }

    /// Loads the configuration (printing its warnings) and builds the operation context.
    /// Throws `KeelError` (exit 1) for a missing or invalid configuration file.
    /// `fileOptional`: a listing that reads a remote node may run without any configuration file when
    /// `-h`/`-d` name that node (repmgr's `cluster show -h HOST`).
    func makeContext(format: OutputFormat? = nil, fileOptional: Bool = false) throws -> OpsContext {
        let config = fileOptional && configFile == nil && !remote.isEmpty && defaultConfigPath() == nil
            ? KeelConfig.withoutFile : try loadConfig()
        var level = ConsoleLogHandler.level(logLevel ?? config.logLevel) ?? .info
        if logLevel != nil, ConsoleLogHandler.level(logLevel!) == nil {
            throw KeelError(.badConfig, "invalid log level \"\(logLevel!)\"", hint: "use DEBUG, INFO, NOTICE, WARNING or ERROR")
        }
        if verbose { level = .debug }
        if quiet { level = .error }
        var sink = ConsoleLogHandler.Sink.standardError
        var logFileProblem: String?
        if logToFile, !config.logFile.isEmpty {
            do {
                sink = try ConsoleLogHandler.Sink.openFile(config.logFile)
            } catch {
                logFileProblem = (error as? KeelError)?.message ?? "log file \"\(config.logFile)\" cannot be opened: \(error)"
            }
        }
        let logger = Logger(label: "keel") { _ in ConsoleLogHandler(level: level, sink: sink) }
        if sink !== ConsoleLogHandler.Sink.standardError { FinalError.shared.route(to: logger) }
        if let logFileProblem { logger.warning("\(logFileProblem); logging to stderr instead") }
        for warning in config.warnings { logger.warning("\(warning)") }
        let chosen: OutputFormat = format ?? (json ? .json : csv ? .csv : .text)
        return OpsContext(config: config, logger: logger, dryRun: dryRun, force: force, format: chosen, remote: remote)
    }

    /// The first default configuration file that exists, if any.
    func defaultConfigPath() -> String? {
        KeelConfig.defaultPath(currentDirectory: FileManager.default.currentDirectoryPath,
                               exists: { FileManager.default.fileExists(atPath: $0) })
    }

    func loadConfig() throws -> KeelConfig {
        let path: String
        if let configFile {
            path = configFile
        } else if let found = defaultConfigPath() {
            path = found
        } else {
            throw KeelError(.badConfig, "no configuration file provided and none found",
                            detail: "looked for ./keel.conf, /etc/keel.conf, ./repmgr.conf and /etc/repmgr.conf",
                            hint: "use -f/--config-file")
        }
        do {
            return try KeelConfig.load(path: path)
        } catch {
            throw error.keelError
        }
    }
}

/// Where a command's final error goes: standard error, or with `--log-to-file` the log file, through the
/// command's logger (as repmgr, whose every line, the last ERROR included, goes to `log_file` then).
final class FinalError: @unchecked Sendable {
    static let shared = FinalError()
    private let lock = Lock()
    private var logger: Logger?

    /// Sends the final error through `logger` from now on.
    func route(to logger: Logger) { lock.withLock { self.logger = logger } }

    func report(_ error: KeelError) {
        guard let logger = lock.withLock({ logger }) else {
            writeStandardError(error.description + "\n")
            return
        }
        var metadata: Logger.Metadata = [:]
        if let detail = error.detail { metadata["detail"] = "\(detail)" }
        if let hint = error.hint { metadata["hint"] = "\(hint)" }
        logger.error("\(error.message)", metadata: metadata)
    }
}

/// Runs an operation and turns its errors into repmgr's output and exit codes.
func perform(_ body: () async throws -> Int32) async throws {
    let status: Int32
    do {
        status = try await body()
    } catch let error as KeelError {
        FinalError.shared.report(error)
        throw ExitCode(error.status.rawValue)
    } catch let error as ConfigError {
        FinalError.shared.report(error.keelError)
        throw ExitCode(ExitStatus.badConfig.rawValue)
    }
    if status != 0 { throw ExitCode(status) }
}
