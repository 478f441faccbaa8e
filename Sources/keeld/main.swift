import ArgumentParser
import Foundation
import KeelCore
import KeelDaemon

// keeld: the per-node monitoring and failover daemon (repmgrd's counterpart). Refuses root.
if geteuid() == 0 {
    FileHandle.standardError.write(Data("ERROR: keeld must not be run as root\nHINT: run it as the operating system user that owns the PostgreSQL data directory\n".utf8))
    exit(ExitStatus.badConfig.rawValue)
}
let options: KeeldOptions
do {
    options = try KeeldOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    KeeldOptions.exit(withError: error)
}
if let word = options.words.first(where: { $0.lowercased() != "start" }) {
    FileHandle.standardError.write(Data("ERROR: unexpected argument \"\(word)\"\n".utf8))
    exit(ExitStatus.badConfig.rawValue)
}
let status = await Daemon.main(Daemon.Options(configFile: options.configFile, daemonize: options.daemonize, pidFile: options.pidFile,
                                             noPidFile: options.noPidFile, logLevel: options.verbose ? "DEBUG" : options.logLevel,
                                             arguments: CommandLine.arguments))
exit(status)
