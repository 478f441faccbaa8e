import KeelCore
import KeelPostgres

/// `keel cluster event [--limit N] [--all] [--event NAME] [--node-id N] [--node-name NAME] [--compact] [--csv] [--json]`:
/// `repmgr.events`, newest first (20 by default). Source: repmgr 5.3 `do_cluster_event`.
public struct ClusterEvent {
    public let context: OpsContext
    public let filter: MetadataStore.EventFilter
    public let compact: Bool

    public init(context: OpsContext, filter: MetadataStore.EventFilter, compact: Bool = false) {
        self.context = context
        self.filter = filter
        self.compact = compact
    }

    /// Prints the events. Throws `KeelError` 6/7.
    public func run() async throws {
        let conn = context.remote.isEmpty ? try context.connectLocal()
                                          : try context.connect(try context.remote.conninfo(defaultsFrom: context.config.conninfo), what: "node")
        let events = try context.query { try MetadataStore(connection: conn).events(filter) }
        switch context.format {
        case .csv:
            context.output(events.map { e in
                CSV.row([String(e.nodeID), e.nodeName ?? "", e.event, e.successful ? "t" : "f", e.timestamp])
            }.joined(separator: "\n"))
        case .json:
            context.output(JSON.render(events))
        default:
            var headers = ["Node ID", "Name", "Event", "OK", "Timestamp"]
            if !compact { headers.append("Details") }
            context.output(TextTable(headers: headers, rows: events.map { e in
                var row = [String(e.nodeID), e.nodeName ?? "", e.event, e.successful ? "t" : "f", e.timestamp]
                if !compact { row.append(e.details) }
                return row
            }).render())
        }
    }
}
