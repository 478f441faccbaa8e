import Foundation
import Testing
import KeelCore
@testable import KeelOps

/// keeld's default pid file path when another user squats the name in the shared directory.
@Suite("pid file")
struct PidFileTests {
    static let config = testConfig(id: 7)

    @Test("the default is $TMPDIR/keeld-<id>.pid; a file of another user there moves it to the home directory")
    func squatted() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keel-pidfile-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(PidFile.defaultPath(config: Self.config, temporaryDirectory: dir, home: "/home/k") == dir + "/keeld-7.pid")
        // A file of this user (a stale pid file of its own) keeps the default.
        FileManager.default.createFile(atPath: dir + "/keeld-7.pid", contents: Data("1\n".utf8))
        #expect(PidFile.defaultPath(config: Self.config, temporaryDirectory: dir, home: "/home/k") == dir + "/keeld-7.pid")
        // Another user's file (only root can make one; scripts/test runs as root in CI).
        if geteuid() == 0 {
            #expect(chown(dir + "/keeld-7.pid", 65534, 65534) == 0)
            #expect(PidFile.defaultPath(config: Self.config, temporaryDirectory: dir, home: "/home/k") == "/home/k/.keeld-7.pid")
        }
    }
}
