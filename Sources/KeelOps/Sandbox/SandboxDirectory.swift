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

/// The checks that keep another local user out of a sandbox: its directory (and each file Keel reads in
/// it) must belong to the user running Keel and be writable by nobody else, in a parent nobody else can
/// rename it out of. A directory someone else made, even empty, is refused: its owner could swap its
/// content (`sandbox.json`, binaries, configuration) under Keel.
enum SandboxDirectory {
    /// Throws `KeelError` 1 unless `path` is a directory (not a link) owned by this user, not writable by
    /// group or others, whose parent is not writable by others (unless sticky, like /tmp).
    static func checkTrusted(_ path: String) throws {
        guard let info = status(path) else {
            throw KeelError(.badConfig, "sandbox directory \"\(path)\" cannot be examined", detail: String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw KeelError(.badConfig, "sandbox directory \"\(path)\" is not a directory (a symbolic link or a file)")
        }
        try checkOwnership(info, path: path, what: "sandbox directory")
        let parent = PathString.deletingLastComponent(path)
        if let up = status(parent), up.st_mode & 0o002 != 0, up.st_mode & S_ISVTX == 0 {
            throw KeelError(.badConfig, "sandbox directory \"\(path)\" is in \"\(parent)\", which anyone can write to",
                            hint: "create the sandbox in a directory of your own")
        }
    }

    /// Throws `KeelError` 1 unless `path` is a regular file owned by this user and not writable by group or others.
    static func checkTrustedFile(_ path: String) throws {
        guard let info = status(path) else { return }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw KeelError(.badConfig, "\"\(path)\" is not a regular file (a symbolic link?)")
        }
        try checkOwnership(info, path: path, what: "file")
    }

    private static func checkOwnership(_ info: stat, path: String, what: String) throws {
        guard info.st_uid == geteuid() else {
            throw KeelError(.badConfig, "\(what) \"\(path)\" belongs to another user (uid \(info.st_uid))",
                            hint: "a sandbox must be made and used by its owner; choose a directory of your own")
        }
        guard info.st_mode & 0o022 == 0 else {
            throw KeelError(.badConfig, "\(what) \"\(path)\" is writable by group or others (mode \(String(info.st_mode & 0o777, radix: 8)))",
                            hint: "restrict it with \"chmod go-w\", or choose a directory of your own")
        }
    }

    private static func status(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    /// Node names a sandbox creates: `node1`…`node9` and `witness`.
    static func isNodeName(_ name: String) -> Bool {
        name == "witness" || (name.count == 5 && name.hasPrefix("node") && ("1"..."9").contains(String(name.last!)))
    }
}
