import Foundation
import Testing
import KeelTesting

/// A cluster for the fault matrix: primary `node1`, standbys `node2`…, optionally a witness, each
/// node in its own network namespace of a `NetworkLab` (PostgreSQL and keeld run there as the
/// server user), and a `Writer` in the root namespace that inserts into every node and records
/// every acknowledged write. Short detection window: monitor 1 s, 3 reconnect attempts 1 s apart.
final class FaultCluster {
    static let settings = """
        failover=automatic
        promote_command=''
        follow_command=''
        monitor_interval_secs=1
        reconnect_attempts=3
        reconnect_interval=1
        election_rerun_interval=2
        primary_notification_timeout=10
        witness_sync_interval=1
        log_status_interval=0
        log_level=DEBUG
        fencing=auto
        fence_action=demote
        """
    /// monitor_interval_secs: the returning-primary fence deadline is one interval (plus the time to act).
    static let monitorInterval = 1.0
    /// (reconnect_attempts − 1) × reconnect_interval: the standbys' detection window.
    static let detectionWindow = 2.0

    let workspace: TestWorkspace
    let lab: NetworkLab
    let names: [String]
    let witnessName: String?
    private(set) var servers: [String: PostgresServer] = [:]
    private(set) var daemons: [String: BackgroundProcess] = [:]
    private(set) var writer: Writer?
    private var closed = false

    /// `extra` adds configuration lines per node, `common` to every node; `upstreams` makes a
    /// standby cascade (`["node3": "node2"]`).
    init(_ name: String, standbys: Int = 2, witness: Bool = true, locations: [String: String] = [:],
         extra: [String: String] = [:], common: String = "", upstreams: [String: String] = [:]) throws {
        names = ["node1"] + (0..<standbys).map { "node\($0 + 2)" }
        witnessName = witness ? "witness" : nil
        lab = try NetworkLab(nodes: names + (witness ? ["witness"] : []))
        do {
            workspace = try TestWorkspace(name: "fault-" + name)
        } catch {
            lab.close()
            throw error
        }
        do {
            _ = try workspace.stageKeelBinaries()
            try build(locations: locations, extra: extra, common: common, upstreams: upstreams)
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    private func build(locations: [String: String], extra: [String: String], common: String, upstreams: [String: String]) throws {
        let primary = try workspace.startPrimary(name: "node1", endpoint: lab.endpoint("node1"))
        servers["node1"] = primary
        func configure(_ node: String, id: Int, port: Int) throws {
            try writeConfig(node, id: id, port: port, location: locations[node] ?? "dc1",
                            extra: common + "\n" + (extra[node] ?? ""))
        }
        try configure("node1", id: 1, port: primary.port)
        try keel("node1", "primary", "register").requireSuccess()
        for (index, standby) in names.dropFirst().enumerated() {
            let port = try workspace.freePort()
            try configure(standby, id: index + 2, port: port)
            let upstream = upstreams[standby].map { ["--upstream-node-id", String(nodeID($0))] } ?? []
            let source = upstreams[standby].map { server($0) } ?? primary
            try keel(standby, ["standby", "clone", "-h", source.host, "-p", "\(source.port)", "-c"] + upstream).requireSuccess()
            let clone = workspace.server(name: standby, port: port, endpoint: lab.endpoint(standby))
            try clone.appendConfiguration("port = \(port)\nlisten_addresses = '\(lab.endpoint(standby).address)'")
            try clone.start()
            servers[standby] = clone
            try keel(standby, ["standby", "register"] + upstream).requireSuccess()
        }
        if let witnessName {
            let w = try workspace.startPrimary(name: witnessName, endpoint: lab.endpoint(witnessName))
            servers[witnessName] = w
            try configure(witnessName, id: 99, port: w.port)
            try keel(witnessName, "witness", "register", "-h", primary.host, "-p", "\(primary.port)").requireSuccess()
        }
        for standby in names.dropFirst() {
            try waitForStreaming(standby, from: upstreams[standby] ?? "node1")
        }
        _ = try primary.psql(Writer.createTableSQL)
    }

    private func writeConfig(_ node: String, id: Int, port: Int, location: String, extra: String) throws {
        let endpoint = lab.endpoint(node)
        let text = """
            node_id=\(id)
            node_name='\(node)'
            conninfo='host=\(endpoint.address) port=\(port) user=repmgr dbname=repmgr connect_timeout=2'
            data_directory='\(workspace.dataDirectoryPath(name: node))'
            pg_bindir='\(workspace.postgresBinDirectory)'
            repmgr_bindir='\(workspace.binDirectory)'
            location='\(location)'
            log_file='\(workspace.path)/\(node)-keel.log'
            repmgrd_pid_file='\(workspace.path)/\(node)-keeld.pid'
            \(Self.settings)
            \(extra)

            """
        try workspace.writeFile("\(node).conf", text)
    }

    var all: [String] { names + (witnessName.map { [$0] } ?? []) }

    func nodeID(_ node: String) -> Int { node == witnessName ? 99 : Int(node.dropFirst(4))! }

    func config(_ node: String) -> String { workspace.path + "/\(node).conf" }

    func server(_ node: String) -> PostgresServer { servers[node]! }

    /// Runs `keel -f <node>.conf ARGS` inside `node`'s namespace as the server user.
    @discardableResult
    func keel(_ node: String, _ arguments: String..., timeout: Double = 180) throws -> ProcessResult {
        try keel(node, arguments, timeout: timeout)
    }

    @discardableResult
    func keel(_ node: String, _ arguments: [String], timeout: Double = 180) throws -> ProcessResult {
        try workspace.run("keel", ["-f", config(node)] + arguments, timeout: timeout, namespace: lab.endpoint(node).namespace)
    }

    // MARK: - Daemons and the writer

    func startDaemon(_ node: String) throws {
        daemons[node] = try workspace.spawn("keeld", ["-f", config(node)], name: "keeld-\(node)-\(daemons.count)",
                                            namespace: lab.endpoint(node).namespace)
    }

    /// Starts keeld on every node and waits until each monitors.
    func startDaemons() throws {
        for node in all { try startDaemon(node) }
        for node in all {
            try waitFor("keeld on \(node) monitoring", timeout: 30) { self.log(node).contains("monitoring") }
        }
    }

    /// Starts the writer on every data node (through the bridge, as an application would).
    @discardableResult
    func startWriter() -> Writer {
        var targets: [String: String] = [:]
        for node in names {
            targets[node] = "host=\(server(node).host) port=\(server(node).port) user=repmgr dbname=repmgr connect_timeout=1"
        }
        let writer = Writer(targets: targets)
        writer.start()
        self.writer = writer
        return writer
    }

    /// keeld's log of `node` (its log file and its stderr).
    func log(_ node: String) -> String {
        let file = (try? String(contentsOfFile: workspace.path + "/\(node)-keel.log", encoding: .utf8)) ?? ""
        return file + (daemons[node]?.output() ?? "")
    }

    /// Stops the writer, resumes frozen servers, stops every process and server (the workspace),
    /// then removes the network. Idempotent.
    func close() {
        if closed { return }
        closed = true
        writer?.stop()
        lab.thawAll()
        workspace.close()
        lab.close()
    }
}
