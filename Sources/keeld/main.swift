import ArgumentParser
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
import KeelDaemon

// keeld: the per-node monitoring and failover daemon (repmgrd's counterpart). Refuses root.
if geteuid() == 0 {
    writeStandardError("ERROR: keeld must not be run as root\nHINT: run it as the operating system user that owns the PostgreSQL data directory\n")
    exit(ExitStatus.badConfig.rawValue)
}
let options: KeeldOptions
do {
    options = try KeeldOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    KeeldOptions.exit(withError: error)
}
if let word = options.words.first(where: { $0.lowercased() != "start" }) {
    writeStandardError("ERROR: unexpected argument \"\(word)\"\n")
    exit(ExitStatus.badConfig.rawValue)
}
let status = await Daemon.main(Daemon.Options(configFile: options.configFile, daemonize: options.daemonize, pidFile: options.pidFile,
                                             noPidFile: options.noPidFile, logLevel: options.verbose ? "DEBUG" : options.logLevel,
                                             arguments: CommandLine.arguments))
exit(status)
