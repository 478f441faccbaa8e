import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private IPv4 network for one test: a bridge in the root namespace (`10.77.N.254/24`, the
/// address clients of the test use) and, per node, a network namespace joined to the bridge by
/// a veth pair (`10.77.N.i/24`). Links between nodes are cut and healed with nftables rules
/// inside the namespaces (packets silently dropped, nothing refused); servers are frozen with
/// SIGSTOP. Every name carries a tag made of the test process's pid and a counter, so nothing
/// this lab did not create is ever touched; `close()` removes it all, and a guardian process
/// does so when the test process dies first.
public final class NetworkLab: @unchecked Sendable {
    /// The nodes, in the order given (node i has address `10.77.N.i`).
    public let nodes: [String]
    /// The bridge's address: where the test's own clients come from.
    public let gateway: String
    /// The bridge interface in the root namespace.
    public let bridge: String

    let tag: String
    private let subnet: String
    private(set) var endpoints: [String: NetworkEndpoint] = [:]
    private let rootVeths: [String]
    private let lock = NSLock()
    private var cuts: Set<[String]> = []
    private var frozen: [pid_t] = []
    private var closed = false
    private var guardian: NetworkGuardian?

    /// Why the lab cannot run here (not root, `ip` or `nft` missing), nil when it can.
    public static var unsupportedReason: String? {
        if geteuid() != 0 { return "network namespaces need root (the tests run as uid \(geteuid()))" }
        if !NetworkTools.available { return "`ip` (iproute2) or `nft` (nftables) is not installed: run scripts/bootstrap" }
        return nil
    }

    /// Builds the bridge, one namespace per node with `lo` up, its veth and address, and an empty
    /// `inet keel` nftables table with input and output chains in each namespace.
    public init(nodes: [String]) throws {
        if let reason = Self.unsupportedReason { throw HarnessError.setupFailed(reason) }
        self.nodes = nodes
        tag = NetworkLab.nextTag()
        let octet = try NetworkLab.freeSubnetOctet()
        subnet = "10.77.\(octet)"
        gateway = "\(subnet).254"
        bridge = "kb\(tag)"
        let tag = self.tag
        rootVeths = nodes.indices.map { "kv\(tag)n\($0 + 1)" }
        let namespaces = nodes.indices.map { "keel-\(tag)-\($0 + 1)" }
        let peers = nodes.indices.map { "kp\(tag)n\($0 + 1)" }
        try NetworkLab.requireUnused(links: [bridge] + rootVeths + peers, namespaces: namespaces)
        guardian = NetworkGuardian.start(namespaces: namespaces, links: [bridge] + rootVeths)
        do {
            try NetworkTools.run(try NetworkTools.ip(), ["link", "add", bridge, "type", "bridge"])
            try NetworkTools.run(try NetworkTools.ip(), ["addr", "add", "\(gateway)/24", "dev", bridge])
            try NetworkTools.run(try NetworkTools.ip(), ["link", "set", bridge, "up"])
            for (index, node) in nodes.enumerated() {
                let endpoint = NetworkEndpoint(namespace: namespaces[index], address: "\(subnet).\(index + 1)", subnet: "\(subnet).0/24")
                try addNode(endpoint, rootVeth: rootVeths[index], peer: peers[index])
                endpoints[node] = endpoint
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// The namespace and address of `node`.
    public func endpoint(_ node: String) -> NetworkEndpoint {
        guard let endpoint = endpoints[node] else { preconditionFailure("\(node) is not a node of this network lab (\(nodes))") }
        return endpoint
    }

    private func addNode(_ endpoint: NetworkEndpoint, rootVeth: String, peer: String) throws {
        let ip = try NetworkTools.ip()
        let ns = endpoint.namespace
        try NetworkTools.run(ip, ["netns", "add", ns])
        try NetworkTools.run(ip, ["link", "add", rootVeth, "type", "veth", "peer", "name", peer])
        try NetworkTools.run(ip, ["link", "set", peer, "netns", ns])
        try NetworkTools.run(ip, ["link", "set", rootVeth, "master", bridge])
        try NetworkTools.run(ip, ["link", "set", rootVeth, "up"])
        try NetworkTools.run(ip, ["-n", ns, "link", "set", "lo", "up"])
        try NetworkTools.run(ip, ["-n", ns, "addr", "add", "\(endpoint.address)/24", "dev", peer])
        try NetworkTools.run(ip, ["-n", ns, "link", "set", peer, "up"])
        try NetworkTools.loadRuleset(Partition.ruleset(dropping: []), namespace: ns)
    }

    // MARK: - Partitions

    /// Cuts the link between `a` and `b` in both directions: packets are silently dropped.
    public func cut(_ a: String, _ b: String) throws {
        lock.lock()
        cuts.insert([a, b].sorted())
        lock.unlock()
        try applyRules(to: [a, b])
    }

    /// Cuts `node` off from every other node (the test's clients, on the bridge, still reach it).
    public func cutAll(from node: String) throws {
        lock.lock()
        for other in nodes where other != node { cuts.insert([node, other].sorted()) }
        lock.unlock()
        try applyRules(to: nodes)
    }

    /// Cuts every link between a node of `side` and a node outside it.
    public func split(_ side: [String]) throws {
        lock.lock()
        for a in side { for b in nodes where !side.contains(b) { cuts.insert([a, b].sorted()) } }
        lock.unlock()
        try applyRules(to: nodes)
    }

    /// Restores every link.
    public func heal() throws {
        lock.lock()
        cuts.removeAll()
        lock.unlock()
        try applyRules(to: nodes)
    }

    /// The nftables table `inet keel` of `node`'s namespace as `nft list` prints it.
    public func ruleset(of node: String) throws -> String {
        try NetworkTools.run(try NetworkTools.ip(), ["netns", "exec", endpoint(node).namespace, try NetworkTools.nft(),
                                                     "list", "table", "inet", "keel"]).stdout
    }

    private func applyRules(to affected: [String]) throws {
        lock.lock()
        let current = cuts
        lock.unlock()
        for node in affected {
            let peers = current.compactMap { pair -> String? in
                guard pair.contains(node) else { return nil }
                return endpoint(pair[0] == node ? pair[1] : pair[0]).address
            }
            try NetworkTools.loadRuleset(Partition.ruleset(dropping: peers.sorted()), namespace: endpoint(node).namespace)
        }
    }

    // MARK: - Frozen servers

    /// Freezes `server` as a hung host would: SIGSTOP to its postmaster (from `postmaster.pid`),
    /// then to every child it has. `thaw` or `close` resumes them.
    public func freeze(_ server: PostgresServer) throws {
        guard let pid = server.postmasterPID else { throw HarnessError.setupFailed("\(server.name) is not running: nothing to freeze") }
        _ = kill(pid, SIGSTOP)
        let children = Postmaster.children(of: pid)
        for child in children { _ = kill(child, SIGSTOP) }
        lock.lock()
        frozen += [pid] + children
        lock.unlock()
    }

    /// Resumes every process frozen by `freeze` (children first, then the postmasters).
    public func thawAll() {
        lock.lock()
        let pids = frozen
        frozen.removeAll()
        lock.unlock()
        for pid in pids.reversed() { _ = kill(pid, SIGCONT) }
    }

    // MARK: - Teardown

    /// Resumes frozen processes, deletes the namespaces, the veths and the bridge, and stops the
    /// guardian. Idempotent; never throws (problems go to stderr).
    public func close() {
        lock.lock()
        if closed { lock.unlock(); return }
        closed = true
        lock.unlock()
        thawAll()
        let ip = (try? NetworkTools.ip()) ?? "/usr/sbin/ip"
        for endpoint in endpoints.values.sorted(by: { $0.namespace < $1.namespace }) {
            _ = try? NetworkTools.run(ip, ["netns", "del", endpoint.namespace])
        }
        for link in rootVeths + [bridge] where FileManager.default.fileExists(atPath: "/sys/class/net/\(link)") {
            if (try? NetworkTools.run(ip, ["link", "del", link])) == nil {
                TestWorkspace.warn("could not delete interface \(link)")
            }
        }
        for index in nodes.indices where FileManager.default.fileExists(atPath: "/run/netns/keel-\(tag)-\(index + 1)") {
            TestWorkspace.warn("network namespace keel-\(tag)-\(index + 1) still exists")
        }
        guardian?.stop()
    }
}
