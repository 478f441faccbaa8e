#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KeelCore
import KeelOps
import KeelPostgres

/// keeld on a standby: the failover state machine driven by `StandbyDriver` over the PostgreSQL port.
/// This type only sleeps until the driver's next deadline (or the upstream watcher's wake-up), reconnects
/// the local server when it stops answering, and logs the status every `log_status_interval`.
final class StandbyMonitor {
    private let runtime: DaemonRuntime
    private let waker = Waker()
    private let port: PostgresClusterPort
    private let driver: StandbyDriver
    private var nextStatusLog: Double
    /// When the member status is published in the consensus store next (`dcs`).
    private var nextPublish: Double = 0

    init(runtime: DaemonRuntime, heartbeat: Heartbeat, local: Connection) {
        self.runtime = runtime
        port = PostgresClusterPort(runtime: runtime, heartbeat: heartbeat, local: local, waker: waker)
        let store = MetadataStore(connection: local)
        let paused = runtime.isPaused(local: local)
        let nodes = (try? store.nodes()) ?? []
        let upstream = nodes.first { $0.nodeID == runtime.config.nodeID }?.upstreamNodeID
        let machine = FailoverMachine(settings: FailoverSettings(config: runtime.config), initial: paused ? .paused : .monitoring,
                                      upstreamNodeID: upstream,
                                      nodeNames: Dictionary(nodes.map { ($0.nodeID, $0.nodeName) }, uniquingKeysWith: { a, _ in a }))
        driver = StandbyDriver(machine: machine, port: port, facts: FactsFile(dataDirectory: runtime.config.dataDirectory,
                                                                              logger: runtime.logger),
                               paused: paused, clock: { [runtime] in runtime.now })
        nextStatusLog = runtime.now + Double(runtime.config.int("log_status_interval"))
    }

    /// Runs until this node has been promoted or otherwise left recovery (returns) or keeld stops (throws).
    func run() async throws {
        port.watcher.start()
        defer { port.watcher.stop() }
        let (me, upstream) = port.records()
        runtime.logger.notice("monitoring connection to upstream node \"\(upstream?.nodeName ?? "?")\" (ID: \(upstream?.nodeID ?? 0)) from \"\(me?.nodeName ?? runtime.config.nodeName)\"")
        port.watcher.watch(upstream?.conninfo)
        driver.resume()
        var woken = false
        while true {
            switch try await driver.tick(woken: woken) {
            case .running:
                break
            case .localUnreachable:
                try await port.reconnectLocal()
                woken = false
                continue
            case .leftRecovery:
                runtime.logger.notice("local node is no longer in recovery: switching to primary monitoring")
                return
            }
            logStatus(now: runtime.now)
            if runtime.now >= nextPublish {
                nextPublish = runtime.now + Double(runtime.config.monitorIntervalSecs)
                port.publishStandbyStatus()
            }
            runtime.loopRan(sleepingFor: driver.nextDeadline - runtime.now)
            woken = try await waker.sleep(driver.nextDeadline - runtime.now)
        }
    }

    private func logStatus(now: Double) {
        let interval = Double(runtime.config.int("log_status_interval"))
        guard interval > 0, now >= nextStatusLog else { return }
        nextStatusLog = now + interval
        let upstream = port.records().upstream
        runtime.logger.info("monitoring upstream node \"\(upstream?.nodeName ?? "?")\" (ID: \(upstream?.nodeID ?? 0)) in state \(driver.machine.state)")
    }
}
