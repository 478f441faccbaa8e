import Foundation

/// The nftables rules of one namespace: an `inet keel` table whose input and output chains drop
/// every packet from and to the cut peers.
enum Partition {
    /// The whole table, replaced atomically (`nft -f` applies a file as one transaction).
    static func ruleset(dropping peers: [String]) -> String {
        var lines = [
            "table inet keel {}",
            "delete table inet keel",
            "table inet keel {",
            "  chain input { type filter hook input priority 0; policy accept;",
        ]
        lines += peers.map { "    ip saddr \($0) drop" }
        lines += ["  }", "  chain output { type filter hook output priority 0; policy accept;"]
        lines += peers.map { "    ip daddr \($0) drop" }
        lines += ["  }", "}"]
        return lines.joined(separator: "\n")
    }
}
