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

/// `node rejoin --config-files a,b`: configuration files inside the data directory that pg_rewind would
/// overwrite with the source's copies (it copies `postgresql.conf` & co. from the new primary), saved
/// before the rewind and put back after it, as repmgr's `--config-files` / `--config-archive-dir`.
/// Relative names are relative to the data directory; absolute paths are taken as they are.
public struct ConfigFileKeeper {
    /// The data directory.
    public let dataDirectory: String
    /// The files as given.
    public let files: [String]
    /// Where the copies wait (`<archive base>/keel-rejoin-<node_id>-<pid>`).
    public let archiveDirectory: String

    /// Prepares to keep `files` of `dataDirectory` for node `nodeID`, the copies under `archiveBase`
    /// (`--config-archive-dir`; default: the temporary directory).
    public init(dataDirectory: String, files: [String], nodeID: Int, archiveBase: String? = nil) {
        self.dataDirectory = dataDirectory
        self.files = files.filter { !$0.isEmpty }
        let base = archiveBase.flatMap { $0.isEmpty ? nil : $0 } ?? FileManager.default.temporaryDirectory.path
        archiveDirectory = PathString.join(base, "keel-rejoin-\(nodeID)-\(getpid())")
    }

    /// The absolute path of `file`.
    public func path(_ file: String) -> String {
        file.hasPrefix("/") ? file : PathString.join(dataDirectory, file)
    }

    /// The files that do not exist (checked before anything changes).
    public var missing: [String] { files.filter { !FileManager.default.fileExists(atPath: path($0)) } }

    /// Copies every file into the archive directory. Throws `KeelError` 24 when a copy fails.
    public func save() throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: archiveDirectory)
        do {
            try fm.createDirectory(atPath: archiveDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for (i, file) in files.enumerated() {
                try fm.copyItem(atPath: path(file), toPath: archiveDirectory + "/\(i)")
            }
        } catch {
            throw KeelError(.rejoinFailed, "unable to save the configuration files given with --config-files", detail: "\(error)")
        }
    }

    /// Puts every saved file back (replacing what pg_rewind wrote) and removes the archive directory.
    /// Throws `KeelError` 24 naming the file that could not be restored (the copy stays in the archive).
    public func restore() throws {
        let fm = FileManager.default
        for (i, file) in files.enumerated() {
            let saved = archiveDirectory + "/\(i)"
            do {
                try? fm.removeItem(atPath: path(file))
                try fm.copyItem(atPath: saved, toPath: path(file))
            } catch {
                throw KeelError(.rejoinFailed, "unable to restore configuration file \"\(path(file))\"",
                                detail: "\(error)", hint: "its copy is in \"\(saved)\"")
            }
        }
        try? fm.removeItem(atPath: archiveDirectory)
    }
}
