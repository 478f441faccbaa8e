import Foundation
import KeelCore

// keeld: the per-node monitoring daemon (repmgrd's counterpart). This build checks its arguments and
// configuration the way the daemon will; the monitoring and failover loop is not part of this build.
if geteuid() == 0 {
    FileHandle.standardError.write(Data("ERROR: keeld must not be run as root\n".utf8))
    exit(ExitStatus.badConfig.rawValue)
}
var arguments = Array(CommandLine.arguments.dropFirst())
var configPath: String?
while let arg = arguments.first {
    arguments.removeFirst()
    if arg == "-f" || arg == "--config-file", let value = arguments.first { configPath = value; arguments.removeFirst() }
    else if arg.hasPrefix("--config-file=") { configPath = String(arg.dropFirst("--config-file=".count)) }
}
guard let configPath else {
    FileHandle.standardError.write(Data("ERROR: no configuration file provided\nHINT: use -f/--config-file\n".utf8))
    exit(ExitStatus.badConfig.rawValue)
}
do {
    let config = try KeelConfig.load(path: configPath)
    try config.validateForDaemon()
    FileHandle.standardError.write(Data("ERROR: keeld: automatic failover monitoring is not available in this build\n".utf8))
    exit(ExitStatus.monitoringFailed.rawValue)
} catch {
    FileHandle.standardError.write(Data((error.keelError.description + "\n").utf8))
    exit(ExitStatus.badConfig.rawValue)
}
