import Hummingbird
import KeelCore

/// `GET /metrics`: Prometheus text (format 0.0.4), the gauges read at request time (bounded like the
/// health routes).
enum MetricsRoute {
    static func add(to router: Router<BasicRequestContext>, runtime: DaemonRuntime, pool: HealthConnections) {
        router.get("metrics") { _, _ in
            let config = runtime.config
            let state = await LocalStateProbe.read(conninfo: config.conninfo, pool: pool)
            let fenced = FenceStore(dataDirectory: config.dataDirectory).load(nodeID: config.nodeID) != nil
            let text = runtime.metrics.render(state: state, fenced: fenced, queued: runtime.notifications.queued,
                                              dropped: runtime.notifications.dropped)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
