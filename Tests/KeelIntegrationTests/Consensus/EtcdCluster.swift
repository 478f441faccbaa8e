import Foundation
import KeelCore
@testable import KeelDCS
import KeelNet
import KeelTesting

/// A 3-member etcd 3.4 cluster (Debian's `etcd-server`) on 127.0.0.1, each member with its own data
/// directory and client and peer ports from bind(0), run through its own workspace (as the server user
/// when root), so that every member is stopped by pid when the workspace closes, also when a test fails.
final class EtcdCluster {
    /// Where Debian installs etcd.
    static let binary = "/usr/bin/etcd"
    /// False when etcd is not installed (`scripts/bootstrap` installs it): the consensus tests are skipped.
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    struct Member {
        let name: String
        let clientPort: Int
        let peerPort: Int
        let dataDirectory: String
    }

    let workspace: TestWorkspace
    let members: [Member]
    private var processes: [String: BackgroundProcess] = [:]
    private let token: String

    /// Starts `size` members and waits until the cluster takes writes.
    init(_ name: String, size: Int = 3) throws {
        let ws = try TestWorkspace(name: "etcd-" + name)
        workspace = ws
        token = "keel-" + UUID().uuidString.prefix(8).lowercased()
        members = try (0..<size).map { i in
            Member(name: "m\(i)", clientPort: try ws.freePort(), peerPort: try ws.freePort(),
                   dataDirectory: ws.dataDirectoryPath(name: "etcd-m\(i)"))
        }
        for i in members.indices { try start(i) }
        try waitUntilWritable()
    }

    deinit { workspace.close() }

    /// `http://127.0.0.1:PORT` of each member.
    var endpoints: [String] { members.map { "http://127.0.0.1:\($0.clientPort)" } }

    /// The value of `dcs` for these members.
    var dcs: String { "etcd:" + endpoints.joined(separator: ",") }

    /// Starts member `i` (again, after `kill`: it rejoins with its data directory).
    func start(_ i: Int) throws {
        let m = members[i]
        let cluster = members.map { "\($0.name)=http://127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
        processes[m.name] = try workspace.spawn(Self.binary, [
            "--name", m.name, "--data-dir", m.dataDirectory,
            "--listen-client-urls", "http://127.0.0.1:\(m.clientPort)", "--advertise-client-urls", "http://127.0.0.1:\(m.clientPort)",
            "--listen-peer-urls", "http://127.0.0.1:\(m.peerPort)", "--initial-advertise-peer-urls", "http://127.0.0.1:\(m.peerPort)",
            "--initial-cluster", cluster, "--initial-cluster-token", token, "--initial-cluster-state", "new",
            "--log-level", "warn",
        ], name: "etcd-\(m.name)")
    }

    /// SIGKILL of member `i`, waiting for it to be gone.
    func kill(_ i: Int) {
        guard let p = processes[members[i].name] else { return }
        p.signal(SIGKILL)
        _ = p.waitForExit(timeout: 10)
    }

    /// Every member killed (etcd entirely down).
    func killAll() { for i in members.indices { kill(i) } }

    /// A client of every member.
    func store(callTimeout: Double = 1) -> EtcdStore {
        EtcdStore(endpoints: members.map { DCSEndpoint(host: "127.0.0.1", port: $0.clientPort) }, callTimeout: callTimeout)
    }

    /// The value of `key`, `nil` when absent or when etcd does not answer.
    func value(_ key: String) -> String? { (try? store().get(key))?.value }

    /// The index of the member that is etcd's Raft leader now, `nil` when none answers.
    func leaderIndex() -> Int? {
        for (i, m) in members.enumerated() {
            guard let status = try? HTTPProbe.post(port: m.clientPort, path: "/v3/maintenance/status", body: "{}"),
                  let object = try? JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any],
                  let header = object["header"] as? [String: Any] else { continue }
            if (header["member_id"] as? String) == (object["leader"] as? String) { return i }
        }
        return nil
    }

    func waitUntilWritable(timeout: Double = 30) throws {
        try waitFor("etcd cluster of \(members.count) members takes writes", timeout: timeout) {
            (try? self.store().put("/keel-test/ready", value: "1", lease: 0)) != nil
        }
    }
}

/// A bare HTTP POST to 127.0.0.1 for the fixture's checks, through the same client keeld uses.
enum HTTPProbe {
    static func post(port: Int, path: String, body: String) throws -> String {
        let response = try HTTPExchange.send("POST", path, host: "127.0.0.1", port: port, peer: "etcd on port \(port)",
                                             body: Array(body.utf8), deadline: .now + .seconds(1))
        return String(decoding: response.body, as: UTF8.self)
    }
}
