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
import KeelCore
import KeelOps
import Logging
import ServiceLifecycle
import UnixSignals

/// keeld's process: configuration, pid file, optional detaching, signals (SIGHUP reloads the
/// configuration and reopens `log_file`; SIGTERM/SIGINT stop cleanly), and the monitoring service.
public enum Daemon {
    /// The command-line options (see `keeld --help`).
    public struct Options: Sendable {
        public var configFile: String?
        public var daemonize: Bool
        public var pidFile: String?
        public var noPidFile: Bool
        public var logLevel: String?
        public var arguments: [String]

        public init(configFile: String?, daemonize: Bool, pidFile: String?, noPidFile: Bool, logLevel: String?, arguments: [String]) {
            self.configFile = configFile
            self.daemonize = daemonize
            self.pidFile = pidFile
            self.noPidFile = noPidFile
            self.logLevel = logLevel
            self.arguments = arguments
        }
    }

    /// Runs keeld; returns the exit status (0 after a clean stop; 1 bad configuration; 3 pid file in use;
    /// 9 when `degraded_monitoring_timeout` ended it).
    public static func main(_ options: Options) async -> Int32 {
        let config: KeelConfig
        let path: String
        do {
            path = try configPath(options)
            config = try KeelConfig.load(path: path)
        } catch let error as KeelError {
            return fail(error)
        } catch let error as ConfigError {
            return fail(error.keelError)
        } catch {
            return fail(KeelError(.badConfig, "\(error)"))
        }
        if options.logLevel.map({ ConsoleLogHandler.level($0) == nil }) == true {
            return fail(KeelError(.badConfig, "invalid log level \"\(options.logLevel!)\""))
        }
        if options.daemonize { return detach(options) }

        var sink = ConsoleLogHandler.Sink.standardErrorTimestamped
        var logFileProblem: String?
        if !config.logFile.isEmpty {
            do {
                sink = try ConsoleLogHandler.Sink.openFile(config.logFile)
            } catch {
                logFileProblem = (error as? KeelError)?.message ?? "log file \"\(config.logFile)\" cannot be opened: \(error)"
            }
        }
        let level = ConsoleLogHandler.level(options.logLevel ?? config.logLevel) ?? .info
        let logger = Logger(label: "keeld") { [sink] _ in ConsoleLogHandler(level: level, sink: sink) }
        if let logFileProblem { logger.warning("\(logFileProblem); logging to stderr instead") }
        for warning in config.warnings { logger.warning("\(warning)") }

        let pidFile = options.noPidFile ? nil : PidFile(path: options.pidFile ?? PidFile.defaultPath(config: config))
        do {
            try pidFile?.acquire()
        } catch let error as KeelError {
            logger.error("\(error.message)", metadata: error.hint.map { ["hint": "\($0)"] })
            return error.status.rawValue
        } catch {
            return fail(KeelError(.badPidFile, "\(error)"))
        }
        defer { pidFile?.release() }
        logger.notice("keeld starting (node \"\(config.nodeName)\", ID \(config.nodeID), configuration \"\(path)\")")

        let runtime = DaemonRuntime(config: config, logger: logger)
        // Lua hook scripts load once, now (errors are logged; a hook that cannot load fails when it runs).
        await runtime.hooks.reload(config: config, logger: logger)
        let monitor = Monitor(runtime: runtime)
        let reload = Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                await reloadConfiguration(path: path, runtime: runtime, sink: sink)
            }
        }
        defer { reload.cancel() }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: monitor), .init(service: HTTPService(runtime: runtime, configPath: path))], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "keeld.lifecycle") { _ in SwiftLogNoOpLogHandler() }))
        // systemd (Type=notify): configuration loaded, pid file written, services starting.
        SystemdNotify.send("READY=1\nMAINPID=\(runtime.pid)")
        do {
            try await group.run()
            return 0
        } catch let error as KeelError {
            return error.status.rawValue
        } catch {
            logger.error("keeld stopped: \(error)")
            return ExitStatus.monitoringFailed.rawValue
        }
    }

    /// SIGHUP: re-reads the configuration; a configuration with errors is refused and the running one kept
    /// (logged with every problem). `node_id` cannot change. The log file is reopened either way. Lua hook
    /// scripts are reloaded with the configuration; a script whose new version does not load keeps its
    /// previous version (logged with the reason).
    static func reloadConfiguration(path: String, runtime: DaemonRuntime, sink: ConsoleLogHandler.Sink) async {
        sink.reopen()
        let logger = runtime.logger
        logger.notice("received SIGHUP: reloading configuration \"\(path)\"")
        do {
            let fresh = try KeelConfig.load(path: path)
            guard fresh.nodeID == runtime.config.nodeID else {
                logger.error("configuration not reloaded: node_id cannot change (\(runtime.config.nodeID) → \(fresh.nodeID)); keeping the running configuration")
                return
            }
            for warning in fresh.warnings { logger.warning("\(warning)") }
            runtime.replaceConfig(fresh)
            logger.notice("configuration reloaded")
            await runtime.hooks.reload(config: fresh, logger: logger)
            runtime.event(.daemonReload, details: "configuration reloaded from \"\(path)\"", on: nil)
        } catch {
            logger.error("configuration not reloaded, keeping the running configuration: \(error.keelError.message)")
        }
    }

    private static func configPath(_ options: Options) throws -> String {
        if let file = options.configFile { return file }
        if let found = KeelConfig.defaultPath(currentDirectory: FileManager.default.currentDirectoryPath,
                                              exists: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw KeelError(.badConfig, "no configuration file provided and none found", hint: "use -f/--config-file")
    }

    /// `-d`: starts a copy of this process without `-d`, in a new session, with standard input and output
    /// on /dev/null and standard error appended to `log_file` (or /dev/null); returns at once.
    private static func detach(_ options: Options) -> Int32 {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let arguments = options.arguments.dropFirst().filter { $0 != "-d" && $0 != "--daemonize" }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID is 0x80 in glibc (not exported to Swift).
        posix_spawnattr_setflags(&attributes, Int16(0x80 | POSIX_SPAWN_SETSIGMASK))
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard status == 0 else { return fail(KeelError(.systemFailure, "unable to start keeld in the background: \(String(cString: strerror(status)))")) }
        return 0
    }

    private static func fail(_ error: KeelError) -> Int32 {
        writeStandardError(error.description + "\n")
        return error.status.rawValue
    }
}
