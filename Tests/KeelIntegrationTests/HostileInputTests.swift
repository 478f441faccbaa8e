import Foundation
import Testing
import KeelTesting

/// What another local user, or a hostile value in the metadata, can do to Keel — tried on real PostgreSQL:
/// a node name built to break out of a hook's quoting, a password that must stay off every command line and
/// log line during a clone and a switchover, a sandbox directory made by someone else, and files planted in
/// directories anyone can write to.
@Suite("hostile input: placeholders, passwords on command lines, sandbox takeover, planted files", .serialized)
struct HostileInputTests {
    @Test("a node name with shell syntax reaches an event hook as one word, end to end through standby register --force")
    func placeholderInjection() throws {
        let f = try ClusterFixture("hostile-name")
        let ws = f.workspace
        let marker = ws.path + "/marker-injected"
        let out = ws.path + "/notifications.txt"
        let primary = try ws.startPrimary(name: "node1")
        try f.writeConfig(id: 1, name: "node1", port: primary.port, dataDirectory: primary.dataDirectory,
                          extra: "node_name='n1;touch \(marker)'")
        try f.keel("-f", f.config("node1"), "primary", "register").requireSuccess()
        let port = try ws.freePort()
        let notify = #"event_notification_command='echo \'cpu at 100%\' %a >> "# + out + #"; echo "disk 100%" "%a" >> "# + out + "'"
        try f.writeConfig(id: 2, name: "node2", port: port, dataDirectory: ws.dataDirectoryPath(name: "node2"), extra: notify)
        try f.keel("-f", f.config("node2"), "standby", "clone", "-h", "127.0.0.1", "-p", "\(primary.port)", "-c").requireSuccess()
        _ = try f.startClone(name: "node2", port: port)
        let register = try f.keel("-f", f.config("node2"), "standby", "register", "--force")
        #expect(register.succeeded, "\(register)")
        try waitFor("both notification lines written", timeout: 30) {
            ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").count >= 2
        }
        #expect(!FileManager.default.fileExists(atPath: marker), "the node name ran as a command")
        let lines = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        #expect(lines.contains("cpu at 100% n1;touch \(marker)"), "\(lines)")
        #expect(lines.contains("disk 100% n1;touch \(marker)"), "\(lines)")
    }

    @Test("remote commands over ssh: a config_file path with prepend letters before \";\" and \">\", and a host starting with \"-\", run nothing")
    func remoteQuotingInjection() throws {
        let f = try ClusterFixture("hostile-remote")
        let ws = f.workspace
        // A stand-in for ssh: options (running -oProxyCommand= as ssh does), then the host, then the remote
        // command read by a shell, as sshd's login shell reads it.
        try ws.writeFile("fakebin/ssh", """
            #!/bin/sh
            echo "$@" >> \(ws.path)/ssh-calls
            while [ $# -gt 0 ]; do
              case "$1" in
                --) shift; break ;;
                -oProxyCommand=*) sh -c "${1#-oProxyCommand=}"; shift ;;
                -o|-l|-p|-i|-F) shift 2 ;;
                -*) shift ;;
                *) break ;;
              esac
            done
            shift
            exec /bin/sh -c "$*"
            """, mode: 0o755)
        let primary = try ws.startPrimary(name: "node1")
        let conf = try f.writeConfig(id: 1, name: "node1", port: primary.port, dataDirectory: primary.dataDirectory)
        let original = try String(contentsOfFile: conf, encoding: .utf8)
        // Another node's view: node1 is reached over "ssh" (its host is not this machine) with its recorded config_file.
        let viewer = try f.writeConfig(id: 2, name: "viewer", port: primary.port, dataDirectory: ws.dataDirectoryPath(name: "viewer"))
        let env = ["PATH": ws.path + "/fakebin:/usr/bin:/bin"]
        for (host, marker) in [("keel-remote-host", "marker-remote"), ("''-oProxyCommand=touch marker-proxy''", "marker-proxy")] {
            let text = original.replacingOccurrences(of: "conninfo='host=127.0.0.1 ", with: "conninfo='host=\(host) hostaddr=127.0.0.1 ")
            // Each U+0D4E (a "prepend" letter) makes one grapheme with the character after it.
            let hostile = try ws.writeFile("n1\u{0D4E};x\u{0D4E}>marker-remote", text, mode: 0o644)
            try f.keel("-f", hostile, "primary", "register", "--force").requireSuccess()
            try? FileManager.default.removeItem(atPath: ws.path + "/ssh-calls")
            let matrix = try ws.run("keel", ["-f", viewer, "cluster", "matrix"], environment: env, timeout: 60)
            let calls = (try? String(contentsOfFile: ws.path + "/ssh-calls", encoding: .utf8)) ?? ""
            #expect(!calls.isEmpty, "ssh was not used: \(matrix)")
            #expect(!FileManager.default.fileExists(atPath: ws.path + "/" + marker), "\(marker): a command ran: \(calls)")
            #expect(matrix.stdout.contains("node1"), "\(matrix)")
        }
    }

    @Test("the conninfo password is on no command line of any process during a clone and a switchover, and in no log line")
    func passwordNeverOnACommandLine() throws {
        let secret = "pw-" + UUID().uuidString.prefix(12)
        let watch = CommandLineWatch(secret: String(secret))
        defer { watch.stop() }
        let c = try FailoverCluster("password-argv", standbys: 1, witness: true, common: TopologyTests.pgCtl,
                                    extraConninfo: " password=\(secret)")
        let f = c.f
        let ws = f.workspace
        // A verbose clone (pg_basebackup gets the conninfo), not started.
        try f.writeConfig(id: 3, name: "node3", port: try ws.freePort(), dataDirectory: ws.dataDirectoryPath(name: "node3"),
                          extraConninfo: " password=\(secret)", extra: "log_level=DEBUG")
        let clone = try f.keel("-f", f.config("node3"), "-v", "standby", "clone", "-h", "127.0.0.1", "-p", "\(c.server("node1").port)", "-c")
        #expect(clone.succeeded, "\(clone)")
        // The switchover: the old primary's rejoin and the witness's re-registration get the new primary's conninfo.
        let sw = try f.keel("-f", f.config("node2"), "-v", "standby", "switchover", "--siblings-follow")
        #expect(sw.succeeded, "\(sw)")
        try c.waitForStreaming("node1", from: "node2")
        let seen = watch.stop()
        #expect(seen.isEmpty, "processes with the password on their command line: \(seen)")
        #expect(!clone.combinedOutput.contains(secret))
        #expect(!sw.combinedOutput.contains(secret))
        for node in ["node1", "node2", "witness"] {
            #expect(!c.log(node).contains(secret), "the password is in \(node)'s log")
        }
        // node rejoin rewrote postgresql.auto.conf on node1: 0600, as PostgreSQL writes it.
        let attributes = try FileManager.default.attributesOfItem(atPath: c.server("node1").dataDirectory + "/postgresql.auto.conf")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test("a sandbox directory made by another user, or writable by others, is refused; start and destroy trust only the directory given")
    func sandboxTakeover() throws {
        let ws = try TestWorkspace(name: "sandbox-takeover")
        defer { ws.close() }
        _ = try ws.stageKeelBinaries()
        let fm = FileManager.default
        // An empty directory another user made, writable by all.
        let planted = ws.path + "/planted"
        try fm.createDirectory(atPath: planted, withIntermediateDirectories: false)
        try fm.setAttributes([.ownerAccountName: "nobody", .posixPermissions: 0o777], ofItemAtPath: planted)
        let create = try ws.run("keel", ["sandbox", "create", planted, "--nodes", "1"])
        #expect(create.status == 1)
        #expect(create.stderr.contains("belongs to another user"), "\(create)")
        #expect(try fm.contentsOfDirectory(atPath: planted).isEmpty)

        // A sandbox.json naming other binaries and another directory: neither is used.
        let evil = try ws.writeFile("evil/pg_ctl", "#!/bin/sh\ntouch \(ws.path)/evil-ran\nexit 1\n", mode: 0o755)
        try ws.writeFile("victim/keep", "precious")
        let manifest = """
            {"directory": "\(ws.path)/victim", "pgBindir": "\((evil as NSString).deletingLastPathComponent)",
             "nodes": [{"id": 1, "name": "node1", "role": "primary", "port": 1, "location": "default", "directory": "\(ws.path)/victim"}]}
            """
        try ws.writeFile("box/sandbox.json", manifest, mode: 0o644)
        try ws.writeFile("box/node1/data/PG_VERSION", "15\n", mode: 0o600)
        let start = try ws.run("keel", ["sandbox", "start", ws.path + "/box"])
        #expect(!start.succeeded)
        #expect(!fm.fileExists(atPath: ws.path + "/evil-ran"), "the manifest's pg_bindir ran")

        // Writable by others: refused before anything is read.
        try fm.setAttributes([.posixPermissions: 0o777], ofItemAtPath: ws.path + "/box")
        let open = try ws.run("keel", ["sandbox", "stop", ws.path + "/box"])
        #expect(open.status == 1)
        #expect(open.stderr.contains("writable by group or others"), "\(open)")
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: ws.path + "/box")

        let destroy = try ws.run("keel", ["sandbox", "destroy", ws.path + "/box"])
        #expect(destroy.succeeded, "\(destroy)")
        #expect(!fm.fileExists(atPath: ws.path + "/box"))
        #expect(fm.fileExists(atPath: ws.path + "/victim/keep"), "destroy removed the manifest's directory")
        #expect(!fm.fileExists(atPath: ws.path + "/evil-ran"))
    }

    @Test("planted files and odd arguments: another user's pid file, a log_file link in a shared directory, --limit beyond int4, -f /dev/zero")
    func plantedFiles() throws {
        let ws = try TestWorkspace(name: "planted")
        defer { ws.close() }
        _ = try ws.stageKeelBinaries()
        let fm = FileManager.default
        let shared = ws.path + "/shared"
        try fm.createDirectory(atPath: shared, withIntermediateDirectories: false)
        try fm.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: shared)
        let victim = try ws.writeFile("victim.txt", "untouched\n", mode: 0o644)
        // Planted by "another user": a link as the log file, a pid file.
        try fm.createSymbolicLink(atPath: shared + "/keel.log", withDestinationPath: victim)
        fm.createFile(atPath: shared + "/keeld.pid", contents: Data("1\n".utf8))
        for path in [shared + "/keel.log", shared + "/keeld.pid"] {
            #expect(lchown(path, 65534, 65534) == 0)
        }
        let config = try ws.writeFile("keel.conf", """
            node_id=1
            node_name='node1'
            conninfo='host=127.0.0.1 port=\(try ws.freePort()) user=repmgr dbname=repmgr connect_timeout=1'
            data_directory='\(ws.path)/data/node1'
            log_file='\(shared)/keel.log'
            repmgrd_pid_file='\(shared)/keeld.pid'
            """, mode: 0o644)
        let logged = try ws.run("keel", ["-f", config, "--log-to-file", "node", "status"])
        #expect(logged.stderr.contains("symbolic link in a directory others can write to; logging to stderr instead"), "\(logged)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "untouched\n")

        let keeld = try ws.run("keeld", ["-f", config], timeout: 30)
        #expect(keeld.status == 3, "\(keeld)")
        #expect(keeld.combinedOutput.contains("belongs to another user"), "\(keeld)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "untouched\n")

        let limit = try ws.run("keel", ["-f", config, "cluster", "event", "--limit", "9223372036854775807"])
        #expect(limit.status == 1 || limit.status == 64, "\(limit)")
        #expect(limit.stderr.contains("--limit must be at most 2147483647"), "\(limit)")
        let zero = try ws.run("keel", ["-f", "/dev/zero", "cluster", "show"])
        #expect(zero.status == 1)
        #expect(zero.stderr.contains("not a regular file"), "\(zero)")
    }
}

/// Polls `/proc/*/cmdline` of every process, every 20 ms on a thread of its own, for `secret`, until
/// `stop()`; returns the command lines (secret masked) where it was seen.
final class CommandLineWatch: @unchecked Sendable {
    private let secret: String
    private let lock = NSLock()
    private var running = true
    private var seen: [String] = []
    private let done = DispatchSemaphore(value: 0)

    init(secret: String) {
        self.secret = secret
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                scan()
                Thread.sleep(forTimeInterval: 0.02)
            }
            done.signal()
        }
    }

    private func scan() {
        let needle = Data(secret.utf8)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), data.range(of: needle) != nil else { continue }
            let line = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).replacingOccurrences(of: secret, with: "<password>")
            lock.withLock { if !seen.contains(line) { seen.append(line) } }
        }
    }

    /// Stops polling (once) and returns what was seen.
    @discardableResult
    func stop() -> [String] {
        let wasRunning = lock.withLock { defer { running = false }; return running }
        if wasRunning { done.wait() }
        return lock.withLock { seen }
    }
}
