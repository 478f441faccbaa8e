/// The connectivity matrix of `cluster matrix` and `cluster crosscheck`, as repmgr 5.3 builds and prints it
/// (`repmgr-action-cluster.c`): row = the node that tried, column = the node it tried to reach; each cell
/// `*` (connected), `x` (failed) or `?` (unknown: that node's view could not be obtained). Pure: parsing of
/// the `--csv` outputs the nodes return, merging (crosscheck) and rendering.
public struct ConnectivityMatrix: Sendable, Equatable {
    /// One cell; the raw values are repmgr's CSV codes and the order is crosscheck's "best wins".
    public enum Cell: Int, Sendable, Comparable {
        case unknown = -2, failed = -1, ok = 0

        /// `?`, `x` or `*`.
        public var symbol: Character {
            switch self {
            case .unknown: "?"
            case .failed: "x"
            case .ok: "*"
            }
        }

        /// `?` < `x` < `*` (crosscheck keeps the greatest).
        public static func < (a: Cell, b: Cell) -> Bool { a.rawValue < b.rawValue }
    }

    /// A registered node: its ID and name, in `repmgr.nodes` order.
    public struct Node: Sendable, Equatable {
        /// `node_id`.
        public var id: Int
        /// `node_name`.
        public var name: String
        /// Makes a node.
        public init(id: Int, name: String) { self.id = id; self.name = name }
    }

    /// The nodes (rows and columns, same order).
    public let nodes: [Node]
    private var cells: [Int: [Int: Cell]] = [:]

    /// A matrix of `nodes` with every cell unknown.
    public init(nodes: [Node]) { self.nodes = nodes }

    /// The cell of `source` trying `target` (unknown for IDs not in the matrix).
    public subscript(source: Int, target: Int) -> Cell {
        get { cells[source]?[target] ?? .unknown }
        set {
            guard nodes.contains(where: { $0.id == source }), nodes.contains(where: { $0.id == target }) else { return }
            cells[source, default: [:]][target] = newValue
        }
    }

    /// Fills row `source` from that node's `cluster show --csv` (`node_id,availability,recovery`;
    /// availability `-1` = unreachable, as repmgr's `build_cluster_matrix`). Returns false when a line does
    /// not parse (the row is then left as it was).
    @discardableResult
    public mutating func applyClusterShowCSV(from source: Int, _ csv: String) -> Bool {
        var parsed: [(Int, Cell)] = []
        for line in csv.split(whereSeparator: \.isNewline) where !line.trimmingSpaces().isEmpty {
            let fields = line.split(separator: ",").map { $0.trimmingSpaces() }
            guard fields.count >= 2, let id = Int(fields[0]), let availability = Int(fields[1]) else { return false }
            parsed.append((id, availability == -1 ? .failed : .ok))
        }
        guard !parsed.isEmpty else { return false }
        for (id, cell) in parsed { self[source, id] = cell }
        return true
    }

    /// Parses `cluster matrix --csv` (`source,target,status` lines); `nil` when a line does not parse.
    public static func parseMatrixCSV(_ csv: String) -> [(source: Int, target: Int, cell: Cell)]? {
        var result: [(source: Int, target: Int, cell: Cell)] = []
        for line in csv.split(whereSeparator: \.isNewline) where !line.trimmingSpaces().isEmpty {
            let fields = line.split(separator: ",").map { $0.trimmingSpaces() }
            guard fields.count == 3, let s = Int(fields[0]), let t = Int(fields[1]), let raw = Int(fields[2]),
                  let cell = Cell(rawValue: raw) else { return nil }
            result.append((s, t, cell))
        }
        return result
    }

    /// Crosscheck: every node's matrix merged cell by cell, the best value winning (`*` over `x` over `?`),
    /// as repmgr's `do_cluster_crosscheck`.
    public static func merged(_ views: [ConnectivityMatrix], nodes: [Node]) -> ConnectivityMatrix {
        var result = ConnectivityMatrix(nodes: nodes)
        for s in nodes {
            for t in nodes {
                result[s.id, t.id] = views.map { $0[s.id, t.id] }.max() ?? .unknown
            }
        }
        return result
    }

    /// True when some cell is `x`.
    public var hasFailure: Bool { nodes.contains { s in nodes.contains { t in self[s.id, t.id] == .failed } } }
    /// True when some cell is `?`.
    public var hasUnknown: Bool { nodes.contains { s in nodes.contains { t in self[s.id, t.id] == .unknown } } }

    /// The exit status repmgr documents: 25 (ERR_NODE_STATUS) when a node could not reach another (it
    /// overrides 12); 12 (ERR_BAD_SSH) when some node's view could not be obtained (`remoteFailed`, or cells
    /// left unknown); else 0.
    public func exitStatus(remoteFailed: Bool) -> ExitStatus {
        if hasFailure { return .nodeStatus }
        if remoteFailed || hasUnknown { return .badSSH }
        return .success
    }

    /// `--csv`: one `source,target,status` line per cell (status 0, -1 or -2), rows in node order.
    public func renderCSV() -> String {
        nodes.flatMap { s in nodes.map { t in "\(s.id),\(t.id),\(self[s.id, t.id].rawValue)" } }.joined(separator: "\n")
    }

    /// The table exactly as repmgr prints it:
    /// ```
    ///  Name | Id |  1 |  2
    /// ------+----+----+----
    /// node1 |  1 |  * |  *
    /// ```
    /// (names right-aligned to the longest name or "Name"; IDs `%2d`).
    public func renderText() -> String {
        let width = max(4, nodes.map(\.name.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
        var lines = [pad("Name", width) + " | Id " + nodes.map { "| \(pad(String($0.id), 2)) " }.joined()]
        lines.append(String(repeating: "-", count: width) + "-+----" + String(repeating: "+----", count: nodes.count))
        for s in nodes {
            lines.append(pad(s.name, width) + " | \(pad(String(s.id), 2)) " + nodes.map { "|  \(self[s.id, $0.id].symbol) " }.joined())
        }
        return lines.joined(separator: "\n")
    }
}
