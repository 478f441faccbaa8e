import Foundation
import Testing
import KeelCore
@testable import KeelPostgres
@testable import KeelOps

/// `RemoteCommand`'s route and command line (no process is started), and the sibling selection of
/// `--siblings-follow`.
@Suite("Remote actions: route, command line, siblings")
struct RemoteCommandTests {
    static func config(_ extra: String = "") throws -> KeelConfig {
        try KeelConfig.parse(text: """
            node_id=2
            node_name='node2'
            conninfo='host=db2 user=repmgr dbname=repmgr'
            data_directory='/var/lib/postgresql/15/main'
            \(extra)
            """, file: "/etc/keel.conf")
    }

    static func node(_ id: Int, host: String, type: NodeType = .standby, upstream: Int? = 1, active: Bool = true) -> NodeRecord {
        NodeRecord(nodeID: id, upstreamNodeID: upstream, active: active, nodeName: "node\(id)", type: type,
                   conninfo: "host=\(host) port=5432 user=repmgr dbname=repmgr", replicationUser: "repmgr",
                   configFile: "/etc/keel node\(id).conf")
    }

    @Test("a node on another host is reached over ssh with ssh_options, -l and keel from repmgr_bindir")
    func ssh() throws {
        let remote = RemoteCommand(node: Self.node(1, host: "db1"), config: try Self.config("ssh_options='-q -o ConnectTimeout=5'\nrepmgr_bindir='/opt/keel/bin'"),
                                   remoteUser: "postgres", isLocal: { _ in false })
        #expect(remote.route == .ssh(host: "db1"))
        #expect(remote.display(["node", "status", "--is-shutdown-cleanly"])
            == "ssh -q -o ConnectTimeout=5 -l postgres -- db1 '/opt/keel/bin/keel -f '\\''/etc/keel node1.conf'\\'' node status --is-shutdown-cleanly'")
        let plain = RemoteCommand(node: Self.node(1, host: "db1,db9"), config: try Self.config(), isLocal: { _ in false })
        #expect(plain.route == .ssh(host: "db1"))
        #expect(plain.display(["cluster", "show", "--csv"]).hasSuffix("db1 'keel -f '\\''/etc/keel node1.conf'\\'' cluster show --csv'"))
    }

    @Test("words are judged per Unicode scalar: a prepend letter before \";\" (one grapheme) is quoted; -- comes before the host")
    func quotingPerScalar() throws {
        #expect(RemoteCommand.quote("x\u{0D4E};touch m") == "'x\u{0D4E};touch m'")
        #expect(RemoteCommand.quote("/etc/keel/node-1.conf") == "/etc/keel/node-1.conf")
        var node = Self.node(1, host: "db1")
        node.conninfo = "host=-oProxyCommand=x port=5432"
        let remote = RemoteCommand(node: node, config: try Self.config(), isLocal: { _ in false })
        #expect(remote.display(["cluster", "show"]).contains(" -- -oProxyCommand=x 'keel -f "))
    }

    @Test("a node on this host runs keel as a local child process")
    func local() throws {
        #expect(RemoteCommand(node: Self.node(1, host: "127.0.0.1"), config: try Self.config()).route == .local)
        #expect(RemoteCommand(node: Self.node(1, host: "localhost"), config: try Self.config()).route == .local)
        #expect(RemoteCommand(node: Self.node(1, host: "/var/run/postgresql"), config: try Self.config()).route == .local)
        // keel from repmgr_bindir when it is there, else this very binary.
        let bindir = FileManager.default.temporaryDirectory.appendingPathComponent("keel-remote-test-\(getpid())").path
        try FileManager.default.createDirectory(atPath: bindir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: bindir) }
        FileManager.default.createFile(atPath: bindir + "/keel", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        let local = RemoteCommand(node: Self.node(1, host: "127.0.0.1"), config: try Self.config("repmgr_bindir='\(bindir)'"))
        #expect(local.display(["node", "service", "--action=stop"]) == "\(bindir)/keel -f '/etc/keel node1.conf' node service --action=stop")
        let fallback = RemoteCommand(node: Self.node(1, host: "127.0.0.1"), config: try Self.config("repmgr_bindir='/usr/lib/postgresql/15/bin'"))
        #expect(!fallback.keelPath.hasPrefix("/usr/lib/postgresql"))
        #expect(LocalHost.isLocal(LocalHost.hostName()))
        #expect(!LocalHost.isLoopback("192.0.2.1"))
    }

    @Test("a node without config_file cannot be reached")
    func noConfigFile() throws {
        var node = Self.node(1, host: "127.0.0.1")
        node.configFile = ""
        #expect(throws: KeelError.self) { try RemoteCommand(node: node, config: try Self.config()).keelArguments(["cluster", "show"]) }
    }

    @Test("siblings: active standbys and witnesses of the former primary, not the new one")
    func siblings() {
        let nodes = [Self.node(1, host: "a", type: .primary, upstream: nil), Self.node(2, host: "b"), Self.node(3, host: "c"),
                     Self.node(4, host: "d", upstream: 3), Self.node(5, host: "e", active: false), Self.node(99, host: "w", type: .witness)]
        #expect(SiblingsFollow.siblings(of: 1, excluding: 2, in: nodes).map(\.nodeID) == [3, 99])
        #expect(SiblingsFollow.siblings(of: nil, excluding: 2, in: nodes).isEmpty)
        #expect(SiblingsFollow.arguments(for: nodes[2], newPrimary: nodes[1]) == ["standby", "follow", "--upstream-node-id", "2"])
        #expect(SiblingsFollow.arguments(for: nodes[5], newPrimary: nodes[1]).prefix(3) == ["witness", "register", "-d"])
    }
}

/// Which nodes a switchover pauses (`DaemonPauser.toPause`, pure).
@Suite("Switchover: keeld pausing")
struct DaemonPauserTests {
    static func daemon(_ id: Int, pid: Int?, age: Double?, paused: Bool = false) -> DaemonRecord {
        DaemonRecord(nodeID: id, pid: pid, host: "h", secondsSinceHeartbeat: age, upstreamLastSeenSeconds: nil, state: nil, paused: paused)
    }

    @Test("every node not paused yet, and only when some keeld runs")
    func toPause() {
        let nodes = [1, 2, 3].map { RemoteCommandTests.node($0, host: "h") }
        #expect(DaemonPauser.toPause(nodes: nodes, daemons: [], freshSeconds: 10).isEmpty)
        #expect(DaemonPauser.toPause(nodes: nodes, daemons: [Self.daemon(1, pid: 7, age: 60)], freshSeconds: 10).isEmpty)
        #expect(DaemonPauser.toPause(nodes: nodes, daemons: [Self.daemon(1, pid: nil, age: 1)], freshSeconds: 10).isEmpty)
        #expect(DaemonPauser.toPause(nodes: nodes, daemons: [Self.daemon(1, pid: 7, age: 1), Self.daemon(3, pid: nil, age: nil, paused: true)],
                                     freshSeconds: 10) == [1, 2])
    }
}

/// The ssh route end to end with a stand-in `ssh` (first on `PATH` for the duration of the test): the
/// password of a `-d` conninfo travels on standard input, never in ssh's arguments.
@Suite("remote commands over ssh: the password on standard input", .serialized)
struct RemoteCommandPasswordTests {
    @Test("-d's password is read by the remote shell into PGPASSWORD; ssh's arguments never hold it")
    func passwordOverStdin() async throws {
        let dir = NSTemporaryDirectory() + "keel-remote-ssh-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/ssh", contents: Data("""
            #!/bin/sh
            echo "$@" > \(dir)/ssh-args
            while [ $# -gt 0 ]; do case "$1" in --) shift; break ;; -o|-l) shift 2 ;; -*) shift ;; *) break ;; esac; done
            shift
            exec /bin/sh -c "$*"
            """.utf8), attributes: [.posixPermissions: 0o755])
        FileManager.default.createFile(atPath: dir + "/keel", contents: Data("""
            #!/bin/sh
            printf '%s|' "$PGPASSWORD" "$@"
            """.utf8), attributes: [.posixPermissions: 0o755])
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        setenv("PATH", dir + ":" + path, 1)
        defer { setenv("PATH", path, 1) }
        let config = try RemoteCommandTests.config("repmgr_bindir='\(dir)'")
        let remote = RemoteCommand(node: RemoteCommandTests.node(1, host: "db1"), config: config, isLocal: { _ in false })
        let result = try await remote.run(["node", "rejoin", "-d", "host=db2 password='s3 cr;et' user=repmgr"], timeout: 30)
        #expect(result.stdout == "s3 cr;et|-f|/etc/keel node1.conf|node|rejoin|-d|host=db2 user=repmgr|", "\(result)")
        let args = try String(contentsOfFile: dir + "/ssh-args", encoding: .utf8)
        #expect(!args.contains("s3 cr;et") && args.contains("-- db1"), "\(args)")
        #expect(!remote.display(["node", "rejoin", "-d", "host=db2 password=s3"]).contains("s3"))
    }
}
