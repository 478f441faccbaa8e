import Foundation

/// Where a node of a `NetworkLab` lives: its network namespace, its address there and the
/// lab's subnet (CIDR), which its server trusts.
public struct NetworkEndpoint: Sendable, Hashable {
    /// The network namespace the node's processes run in.
    public let namespace: String
    /// The node's IPv4 address inside its namespace.
    public let address: String
    /// The lab's subnet in CIDR notation (e.g. `10.77.5.0/24`).
    public let subnet: String
}

/// The `ip` and `nft` tools, run as the test process's own user (root) with a deadline.
enum NetworkTools {
    /// The path of `ip` (iproute2).
    static func ip() throws -> String { try locate("ip") }

    /// The path of `nft` (nftables).
    static func nft() throws -> String { try locate("nft") }

    /// Whether `ip` and `nft` are installed.
    static var available: Bool { (try? ip()) != nil && (try? nft()) != nil }

    private static func locate(_ tool: String) throws -> String {
        for directory in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: directory + "/" + tool) {
            return directory + "/" + tool
        }
        throw HarnessError.launchFailed(command: tool, reason: "not installed (scripts/bootstrap installs iproute2 and nftables)")
    }

    /// Runs `tool arguments` and throws with its output when it fails.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], timeout: Double = 20) throws -> ProcessResult {
        try ProcessRunner(executable: tool, arguments: arguments, environment: nil, currentDirectory: "/", timeout: timeout)
            .run().requireSuccess()
    }

    /// Loads `ruleset` with `nft -f -` inside network namespace `namespace` (the rules go through
    /// the environment and stdin, never a file).
    static func loadRuleset(_ ruleset: String, namespace: String) throws {
        let script = #"printf '%s\n' "$KEEL_NFT_RULESET" | "$0" netns exec "$1" "$2" -f -"#
        var environment = ProcessInfo.processInfo.environment
        environment["KEEL_NFT_RULESET"] = ruleset
        try ProcessRunner(executable: "/bin/sh", arguments: ["-c", script, try ip(), namespace, try nft()],
                          environment: environment, currentDirectory: "/", timeout: 20).run().requireSuccess()
    }
}
