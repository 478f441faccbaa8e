import Foundation
import Testing
import KeelTesting

/// Bad input gets a clear error naming the file, line, key or node, repmgr's exit code, and changes nothing.
@Suite("Bad inputs on a real cluster", .serialized)
struct BadInputTests {
    @Test("malformed config, unknown key, wrong conninfo, occupied data directory, non-standby, duplicate node id, witness sharing the primary's system identifier")
    func badInputs() throws {
        let f = try ClusterFixture("badinput")
        let ws = f.workspace
        let primary = try ws.startPrimary(name: "node1")
        try f.writeConfig(id: 1, name: "node1", port: primary.port, dataDirectory: primary.dataDirectory)

        // A malformed line: exit 1, the error names file and line, nothing is registered.
        let malformed = try ws.writeFile("malformed.conf", """
            node_id=1
            node_name='node1'
            conninfo=host=127.0.0.1 port=\(primary.port) user=repmgr
            data_directory='\(primary.dataDirectory)'
            """)
        let bad = try f.keel("-f", malformed, "primary", "register")
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("\(malformed):3"), "\(bad.stderr)")
        #expect(try primary.psql("SELECT to_regclass('repmgr.nodes') IS NULL") == "t", "nothing may be created")

        // A bad value names the key and its line.
        let badValue = try f.writeConfig(id: 1, name: "node1", port: primary.port, dataDirectory: primary.dataDirectory,
                                         extra: "priority=high")
        let badValueRun = try f.keel("-f", badValue, "primary", "register")
        #expect(badValueRun.status == 1)
        #expect(badValueRun.stderr.contains("priority"))
        #expect(badValueRun.stderr.contains("\(badValue):"))

        // An unknown key is a warning with its line; the command still works.
        let unknown = try f.writeConfig(id: 1, name: "node1", port: primary.port, dataDirectory: primary.dataDirectory,
                                        extra: "no_such_key='x'")
        let registered = try f.keel("-f", unknown, "primary", "register")
        #expect(registered.succeeded, "\(registered)")
        #expect(registered.stderr.contains("WARNING"))
        #expect(registered.stderr.contains("no_such_key"))
        #expect(registered.stderr.range(of: #"node1\.conf:\d+"#, options: .regularExpression) != nil)

        // Registering the same node id twice: refused, then accepted with --force.
        let again = try f.keel("-f", f.config("node1"), "primary", "register")
        #expect(again.status == 1)
        #expect(again.stderr.contains("already registered"))
        #expect(try f.keel("-f", f.config("node1"), "primary", "register", "--force").succeeded)
        #expect(try primary.psql("SELECT count(*) FROM repmgr.nodes") == "1")

        // Wrong conninfo: exit 6, a clear message, never the password.
        let deadPort = try ws.freePort()
        let wrong = try f.writeConfig(id: 9, name: "node9", port: deadPort, dataDirectory: ws.dataDirectoryPath(name: "node9"),
                                      extraConninfo: " password=top-secret-9")
        let wrongRun = try f.keel("-f", wrong, "node", "status")
        #expect(wrongRun.status == 6)
        #expect(wrongRun.stderr.contains("unable to connect"))
        #expect(wrongRun.stderr.contains("port=\(deadPort)"))
        #expect(!wrongRun.combinedOutput.contains("top-secret-9"))
        let wrongSource = try f.keel("-f", wrong, "standby", "clone", "-h", "127.0.0.1", "-p", "\(deadPort)")
        #expect(wrongSource.status == 6)

        // Cloning into a non-empty data directory is refused without --force, and the directory is untouched.
        let standbyPort = try ws.freePort()
        let occupied = ws.dataDirectoryPath(name: "node2")
        try f.writeConfig(id: 2, name: "node2", port: standbyPort, dataDirectory: occupied)
        try ws.writeFile("data/node2/keepme.txt", "precious\n")
        let refused = try f.keel("-f", f.config("node2"), "standby", "clone", "-h", "127.0.0.1", "-p", "\(primary.port)")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not empty"))
        #expect(try String(contentsOfFile: occupied + "/keepme.txt", encoding: .utf8) == "precious\n")
        #expect(try primary.psql("SELECT count(*) FROM pg_replication_slots") == "0")
        #expect(try primary.psql("SELECT count(*) FROM repmgr.events WHERE event = 'standby_clone'") == "0")

        // A clone with --force replaces the directory; started WITHOUT standby.signal it runs as a second
        // primary with the primary's system identifier: as a witness it is refused.
        let forced = try f.keel("-f", f.config("node2"), "standby", "clone", "-h", "127.0.0.1", "-p", "\(primary.port)", "--force")
        #expect(forced.succeeded, "\(forced)")
        #expect(!FileManager.default.fileExists(atPath: occupied + "/keepme.txt"))
        try FileManager.default.removeItem(atPath: occupied + "/standby.signal")
        let twin = try f.startClone(name: "node2", port: standbyPort)
        try f.writeConfig(id: 3, name: "node3", port: twin.port, dataDirectory: twin.dataDirectory)
        let witness = try f.keel("-f", f.config("node3"), "witness", "register", "-h", "127.0.0.1", "-p", "\(primary.port)")
        #expect(witness.status == 1)
        #expect(witness.stderr.contains("same system identifier"))
        #expect(try primary.psql("SELECT count(*) FROM repmgr.nodes WHERE type = 'witness'") == "0")

        // Registering a node that is not in recovery as a standby is refused.
        let notStandby = try f.keel("-f", f.config("node2"), "standby", "register", "--wait-start", "0")
        #expect(notStandby.status == 1)
        #expect(notStandby.stderr.contains("not in recovery"))
        #expect(try primary.psql("SELECT count(*) FROM repmgr.nodes WHERE node_id = 2") == "0")

        // keel refuses to run as root.
        if getuid() == 0 {
            let binary = ws.binDirectory + "/keel"
            let result = try ChildLauncher.run(binary, ["-f", f.config("node1"), "cluster", "show"], timeout: 60)
            let message = result.stderr
            #expect(result.status == 1)
            #expect(message.contains("must not be run as root"))
        }
    }
}
