import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelOps
import KeelPostgres
import ServiceLifecycle

/// keeld's monitoring service: connects to the local server, decides its role from what the server says
/// (in recovery or not) and what the metadata says (witness), and runs the matching monitor — primary,
/// standby, fenced (a server in recovery with a persisted fence) or witness — switching when the role changes (a promoted standby becomes a primary monitor).
/// Records `repmgrd_start` and `repmgrd_shutdown`. Stops on graceful shutdown (SIGTERM/SIGINT).
public final class Monitor: Service, @unchecked Sendable {
    private let runtime: DaemonRuntime
    private let heartbeat: Heartbeat

    public init(runtime: DaemonRuntime) {
        self.runtime = runtime
        self.heartbeat = Heartbeat(runtime: runtime)
    }

    public func run() async throws {
        do {
            // Everything, the first connection included, runs where SIGTERM/SIGINT can end it: a keeld
            // whose server is down keeps retrying but always stops when asked.
            try await cancelWhenGracefulShutdown {
                let config = self.runtime.config
                let first = try await self.connectLocal()
                self.runtime.event(.daemonStart, details: "monitoring \(config.nodeLabel)",
                                   on: self.primaryConnection(local: first))
                try await self.loop()
            }
        } catch is CancellationError {
        } catch let error as KeelError where error.status == .monitoringTimeout {
            runtime.logger.error("\(error.message)")
            await shutdown(reason: error.message)
            throw error
        }
        await shutdown(reason: "keeld stopped")
    }

    private func loop() async throws {
        var local = try await connectLocal()
        while true {
            if !local.isOK {
                // A server restarted by keeld itself (a fence) answers at once: no disconnect event then.
                if let fresh = runtime.tryConnect(runtime.config.conninfo) {
                    local = fresh
                } else {
                    local = try await LocalConnection.reconnect(runtime: runtime)
                }
            }
            try await monitorOnce(local: local)
        }
    }

    /// One role's monitor, until the role changes.
    private func monitorOnce(local: Connection) async throws {
        let config = runtime.config
        guard let info = try? ServerInfo.read(local) else {
            try await runtime.sleep(Double(config.monitorIntervalSecs))
            return
        }
        let me = try? MetadataStore(connection: local).node(id: config.nodeID)
        guard let me else {
            runtime.logger.error("\(config.nodeLabel) is not registered",
                                 metadata: ["hint": "register it with \"keel primary|standby|witness register\""])
            try await runtime.sleep(Double(config.monitorIntervalSecs))
            return
        }
        if me.type == .witness {
            try await WitnessMonitor(runtime: runtime, heartbeat: heartbeat).run(local: local)
        } else if info.isInRecovery, let fact = FenceStore(dataDirectory: config.dataDirectory).load(nodeID: config.nodeID) {
            try await FencedMonitor(runtime: runtime).run(local: local, fact: fact)
        } else if info.isInRecovery {
            try await StandbyMonitor(runtime: runtime, heartbeat: heartbeat, local: local).run()
        } else {
            try await PrimaryMonitor(runtime: runtime, heartbeat: heartbeat).run(local: local)
        }
    }

    private func connectLocal() async throws -> Connection {
        if let conn = runtime.tryConnect(runtime.config.conninfo) { return conn }
        return try await LocalConnection.reconnect(runtime: runtime)
    }

    /// The primary for event rows: this node when it is one, else the active primary it knows of.
    private func primaryConnection(local: Connection) -> Connection? {
        if (try? ServerInfo.read(local))?.isInRecovery == false { return local }
        let nodes = (try? MetadataStore(connection: local).nodes()) ?? []
        return PrimaryFinder.find(nodes, deadlines: runtime.deadlines)?.1
    }

    private func shutdown(reason: String) async {
        // The daemon's stop is recorded on the primary at best within 0.5 s (a frozen or unreachable node
        // costs a connect deadline each); the exit never waits longer for it.
        let started = runtime.now
        let done = DispatchSemaphore(value: 0)
        startThread(name: "keeld-stop", stackSize: 0) { [self] in
            let primary = runtime.tryConnect(runtime.config.conninfo).flatMap { primaryConnection(local: $0) }
            heartbeat.stopped(on: primary)
            runtime.event(.daemonShutdown, details: reason, on: primary)
            done.signal()
        }
        if done.wait(timeout: .now() + 0.5) == .timedOut {
            runtime.logger.warning("the daemon's stop could not be recorded on the primary within 0.5 s")
        }
        // Queued events and notifications get what is left of 1.2 s: SIGTERM must end keeld within 2 s,
        // whatever a hook or an unreachable primary does.
        await runtime.notifications.drain(timeout: max(0.3, 1.2 - (runtime.now - started)))
        runtime.logger.notice("keeld terminating: \(reason)")
    }
}
