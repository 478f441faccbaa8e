import Hummingbird
import KeelCore
import Logging
import ServiceLifecycle

/// keeld's HTTP API as a service of keeld's service group: serves `http_listen` (nothing when ''),
/// restarts the server when a reload (SIGHUP) changes `http_listen` or `http_token_file`, and stops
/// with keeld (SIGTERM). A listen address that cannot be bound is logged; keeld goes on monitoring.
public final class HTTPService: Service, @unchecked Sendable {
    private let runtime: DaemonRuntime
    private let configPath: String
    /// How often the service looks for a reloaded configuration (seconds).
    static let reloadPoll = 0.25

    /// A service reading its settings from `runtime`; control routes run `keel -f configPath`.
    public init(runtime: DaemonRuntime, configPath: String) {
        self.runtime = runtime
        self.configPath = configPath
    }

    private struct Settings: Equatable {
        var listen: String
        var tokenFile: String
    }

    private var settings: Settings { Settings(listen: runtime.config.httpListen, tokenFile: runtime.config.httpTokenFile) }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let current = self.settings
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.serve(current) }
                    group.addTask { await self.waitForChange(from: current) }
                    await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// Serves until cancelled; returns at once (after logging) when the address is off or unusable.
    private func serve(_ settings: Settings) async {
        let logger = runtime.logger
        let address: HTTPListenAddress
        do {
            guard let parsed = try HTTPListenAddress.parse(settings.listen) else { return await idle() }
            address = parsed
        } catch {
            logger.error("\(error.message); HTTP API not served")
            return await idle()
        }
        let router = Router()
        // Kept-open connections for the health routes and /metrics, closed with this server.
        let pool = HealthConnections()
        HealthRoutes.add(to: router, runtime: runtime, pool: pool)
        let token = ControlRoutes.loadToken(config: runtime.config, logger: logger)
        ClusterRoute.add(to: router, configPath: configPath, token: token, logger: logger)
        MetricsRoute.add(to: router, runtime: runtime, pool: pool)
        if let token {
            ControlRoutes.add(to: router, token: token, configPath: configPath, logger: logger)
        }
        let quiet = Logger(label: "keeld.http") { _ in SwiftLogNoOpLogHandler() }
        let app = Application(router: router, configuration: .init(address: .hostname(address.host, port: address.port), serverName: "keeld"),
                              onServerRunning: { _ in logger.notice("HTTP API listening on \(address.host):\(address.port)") },
                              logger: quiet)
        do {
            try await app.run()
        } catch is CancellationError {
        } catch {
            if !Task.isCancelled {
                logger.error("HTTP API cannot listen on \(address.host):\(address.port): \(error); not served until http_listen changes")
                await idle()
            }
        }
    }

    /// Waits until cancelled.
    private func idle() async {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }

    /// Returns when a reload changed the HTTP settings (or when cancelled).
    private func waitForChange(from settings: Settings) async {
        while !Task.isCancelled, self.settings == settings {
            try? await Task.sleep(for: .milliseconds(Int(Self.reloadPoll * 1000)))
        }
        if !Task.isCancelled { runtime.logger.notice("HTTP settings changed: restarting the HTTP API") }
    }
}
