import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File-system helpers that give files and directories to the server user (when the tests
/// run as root) so that PostgreSQL and Keel, which refuse to run as root, can use them.
enum FileOwnership {
    /// The user id and group id of an OS account.
    struct Account: Sendable {
        var uid: uid_t
        var gid: gid_t
    }

    /// Whether the test process runs as root.
    static var isRoot: Bool { geteuid() == 0 }

    /// Looks up an OS account by name.
    static func account(named name: String) throws -> Account {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let rc = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
        guard rc == 0, result != nil else {
            throw HarnessError.setupFailed("no OS user named \(name) (needed to run PostgreSQL when the tests run as root)")
        }
        return Account(uid: entry.pw_uid, gid: entry.pw_gid)
    }

    /// Gives `path` (not following a final symlink) to `user`; nothing when `user` is nil.
    static func chown(_ path: String, to user: String?) throws {
        guard let user else { return }
        let account = try account(named: user)
        guard lchown(path, account.uid, account.gid) == 0 else {
            throw HarnessError.setupFailed("chown \(user) \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Sets the permission bits of `path`.
    static func chmod(_ path: String, _ mode: Int) throws {
        #if canImport(Glibc)
        let result = Glibc.chmod(path, mode_t(mode))
        #else
        let result = Darwin.chmod(path, mode_t(mode))
        #endif
        guard result == 0 else {
            throw HarnessError.setupFailed("chmod \(String(mode, radix: 8)) \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Creates `path` and any missing parents below `root` with `mode`, each owned by `user`.
    static func makeDirectory(_ path: String, mode: Int = 0o755, owner user: String?, below root: String? = nil) throws {
        var missing: [String] = []
        var current = (path as NSString).standardizingPath
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: current, isDirectory: &isDirectory) {
            missing.append(current)
            if let root, current == root { break }
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { break }
            current = parent
        }
        if missing.isEmpty && !isDirectory.boolValue {
            throw HarnessError.setupFailed("\(path) exists and is not a directory")
        }
        for directory in missing.reversed() {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            } catch {
                throw HarnessError.setupFailed("cannot create \(directory): \(error)")
            }
            try chmod(directory, mode)
            try chown(directory, to: user)
        }
    }

    /// Writes `contents` to `path` with `mode`, owned by `user`.
    static func writeFile(_ path: String, contents: String, mode: Int, owner user: String?) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(contents.utf8)) else {
            throw HarnessError.setupFailed("cannot write \(path)")
        }
        try chmod(path, mode)
        try chown(path, to: user)
    }
}
