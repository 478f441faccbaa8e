import Foundation
import ArgumentParser
import KeelCore
import KeelOps

// keel: the operator CLI (repmgr's grammar). Like repmgr it refuses to run as root.
if geteuid() == 0 {
    FileHandle.standardError.write(Data("ERROR: keel must not be run as root\nHINT: run it as the operating system user that owns the PostgreSQL data directory (usually \"postgres\")\n".utf8))
    exit(ExitStatus.badConfig.rawValue)
}
do {
    var command = try await Keel.asyncParseAsRoot(ArgumentNormalizer.normalize(Array(CommandLine.arguments.dropFirst())))
    if let leaf = command as? any KeelCommand {
        try await leaf.execute()
    } else {
        try command.run()
    }
} catch {
    Keel.exit(withError: error)
}
