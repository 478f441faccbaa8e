import Foundation

/// A small tmpfs the test mounts (root only) to play a full disk, e.g. under a server's `pg_wal`.
/// `unmount()` removes it; nothing else is ever unmounted.
public struct TmpfsMount: Sendable {
    /// The mount point (created by `init`, removed by `unmount`).
    public let path: String
    private let owner: String?

    /// Creates `path` (which must not exist) and mounts a tmpfs of `megabytes` MB there, owned by `owner`.
    public init(path: String, megabytes: Int, owner: String?) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw HarnessError.setupFailed("\(path) exists already") }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        self.path = path
        self.owner = owner
        var options = "size=\(megabytes)m,mode=0700"
        do {
            if let owner {
                let account = try FileOwnership.account(named: owner)
                options += ",uid=\(account.uid),gid=\(account.gid)"
            }
            try Self.run("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", path])
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    /// Moves the contents of `directory` onto the tmpfs and replaces `directory` with a symlink to it.
    public func adopt(directory: String) throws {
        let script = #"cp -a "$0"/. "$1"/ && rm -rf "$0" && ln -s "$1" "$0""# + (owner.map { " && chown -h \($0) \"$0\"" } ?? "")
        try Self.run("/bin/sh", ["-c", script, directory, path])
    }

    /// Unmounts the tmpfs and removes the mount point. Never throws.
    public func unmount() {
        _ = try? Self.run("/bin/umount", [path])
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        try ProcessRunner(executable: executable, arguments: arguments, environment: nil, currentDirectory: "/", timeout: 60).run().requireSuccess()
    }
}
