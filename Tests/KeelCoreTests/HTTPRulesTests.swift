import Testing
import KeelCore

/// keeld's HTTP API decisions without a server: `http_listen`, `?lag=` sizes, the health routes' rules,
/// the liveness window and the control routes' token.
@Suite("HTTP API rules")
struct HTTPRulesTests {
    @Test("http_listen: off, PORT, HOST:PORT, [IPv6]:PORT; bad values name the key")
    func listen() throws {
        #expect(try HTTPListenAddress.parse("") == nil)
        #expect(try HTTPListenAddress.parse("8008") == HTTPListenAddress(host: "127.0.0.1", port: 8008))
        #expect(try HTTPListenAddress.parse("0.0.0.0:8008") == HTTPListenAddress(host: "0.0.0.0", port: 8008))
        #expect(try HTTPListenAddress.parse("[::1]:9000") == HTTPListenAddress(host: "::1", port: 9000))
        for bad in ["host:", ":80", "127.0.0.1:70000", "127.0.0.1:x", "[::1]9000", "a b:80"] {
            #expect(throws: KeelError.self, "\(bad)") { try HTTPListenAddress.parse(bad) }
            do { _ = try HTTPListenAddress.parse(bad) } catch { #expect(error.message.contains("http_listen")) }
        }
    }

    @Test("byte sizes: plain bytes and PostgreSQL's units, powers of 1024",
          arguments: [("1048576", Int64(1_048_576)), ("16MB", 16 << 20), ("1GB", 1 << 30), ("8kB", 8192), ("2g", 2 << 30), ("0", 0)])
    func sizes(_ text: String, _ bytes: Int64) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test("not byte sizes", arguments: ["", "MB", "16 MB", "-1", "1.5GB", "16XB", "99999999999TB"])
    func notSizes(_ text: String) {
        #expect(ByteSize.parse(text) == nil)
    }

    static let primary = LocalServerState(inRecovery: false, timeline: 1)
    static let standby = LocalServerState(inRecovery: true, streaming: true, lagBytes: 1000, timeline: 1)

    static func ok(_ route: HealthRoute, _ state: LocalServerState, fenced: Bool = false, alive: Bool = true, lag: Int64? = nil) -> Bool {
        HealthRules.verdict(route, state: state, fenced: fenced, loopAlive: alive, maxLagBytes: lag).ok
    }

    @Test("a primary: /primary, /read-only, /health, /readiness; never /replica")
    func primaryRoutes() {
        #expect(Self.ok(.primary, Self.primary))
        #expect(!Self.ok(.replica, Self.primary))
        #expect(Self.ok(.readOnly, Self.primary) && Self.ok(.health, Self.primary) && Self.ok(.readiness, Self.primary))
        #expect(HealthRules.verdict(.primary, state: Self.primary, fenced: false, loopAlive: true).status == 200)
    }

    @Test("a fenced node is never /primary, nor ready as one; a read-only primary is not /primary")
    func fencedNeverPrimary() {
        let verdict = HealthRules.verdict(.primary, state: Self.primary, fenced: true, loopAlive: true)
        #expect(!verdict.ok && verdict.status == 503 && verdict.reason == "fenced" && verdict.fenced)
        #expect(!Self.ok(.readiness, Self.primary, fenced: true))
        #expect(!Self.ok(.readOnly, Self.primary, fenced: true))
        #expect(!Self.ok(.primary, LocalServerState(inRecovery: false, readOnly: true)))
    }

    @Test("a standby: /replica while streaming, bounded by ?lag=; /read-only even when not streaming")
    func standbyRoutes() {
        #expect(Self.ok(.replica, Self.standby) && !Self.ok(.primary, Self.standby))
        #expect(Self.ok(.replica, Self.standby, lag: 1000) && !Self.ok(.replica, Self.standby, lag: 999))
        let stalled = LocalServerState(inRecovery: true, streaming: false)
        #expect(!Self.ok(.replica, stalled) && Self.ok(.readOnly, stalled) && !Self.ok(.readiness, stalled))
        #expect(!Self.ok(.replica, LocalServerState(inRecovery: true, streaming: true), lag: 1 << 20), "unknown lag fails a bound")
    }

    @Test("PostgreSQL not answering: every route but /liveness is 503, role unknown")
    func serverDown() {
        let down = LocalServerState.unreachable("connection refused")
        for route in HealthRoute.allCases where route != .liveness {
            let verdict = HealthRules.verdict(route, state: down, fenced: false, loopAlive: true)
            #expect(verdict.status == 503 && verdict.role == "unknown" && verdict.reason.contains("connection refused"), "\(route)")
        }
        #expect(Self.ok(.liveness, down))
        #expect(!Self.ok(.liveness, Self.primary, alive: false) && !Self.ok(.readiness, Self.primary, alive: false))
    }

    @Test("liveness: the loop is late two intervals after its planned sleep")
    func liveness() {
        #expect(!LoopLiveness.isAlive(now: 5, lastRan: nil, plannedSleep: 0, interval: 2))
        #expect(LoopLiveness.isAlive(now: 14, lastRan: 10, plannedSleep: 0, interval: 2))
        #expect(!LoopLiveness.isAlive(now: 14.1, lastRan: 10, plannedSleep: 0, interval: 2))
        #expect(LoopLiveness.isAlive(now: 40, lastRan: 10, plannedSleep: 30, interval: 2), "a long planned sleep is not late")
    }

    @Test("token file: owner-only mode and a non-empty first line; bearer compared exactly")
    func token() {
        #expect(ControlAuth.problem(path: "/t", mode: 0o100600, contents: "abc\n") == nil)
        #expect(ControlAuth.problem(path: "/t", mode: 0o100400, contents: "abc") == nil)
        #expect(ControlAuth.problem(path: "/t", mode: 0o100644, contents: "abc")?.contains("chmod 600 /t") == true)
        #expect(ControlAuth.problem(path: "/t", mode: 0o100620, contents: "abc") != nil)
        #expect(ControlAuth.problem(path: "/t", mode: 0o600, contents: " \n") != nil)
        #expect(ControlAuth.token(from: "  abc  \nsecond\n") == "abc")
        #expect(ControlAuth.authorizes(header: "Bearer abc", token: "abc"))
        for header in [nil, "", "Bearer ", "Bearer ab", "Bearer abcd", "bearer abc", "Basic abc", "Bearer abd"] {
            #expect(!ControlAuth.authorizes(header: header, token: "abc"), "\(String(describing: header))")
        }
        #expect(!ControlAuth.authorizes(header: "Bearer ", token: ""))
    }

    @Test("control routes run keel's commands of the same name, their JSON fields becoming its options")
    func controlCommands() throws {
        #expect(try ControlRoute.pause.arguments() == ["service", "pause"])
        #expect(try ControlRoute.switchover.arguments(["siblings_follow": .bool(true), "force_rewind": .bool(false)])
                == ["standby", "switchover", "--siblings-follow"])
        #expect(try ControlRoute(rawValue: "service/restart")?.arguments() == ["node", "service", "--action=restart"])
        #expect(try ControlRoute.rejoin.arguments(["conninfo": .text("host=a"), "force_rewind": .bool(true)])
                == ["node", "rejoin", "-d", "host=a", "--force-rewind"])
        #expect(try ControlRoute.follow.arguments(["upstream_node_id": .number(3)]) == ["standby", "follow", "--upstream-node-id", "3"])
        #expect(throws: ControlRequestError.self) { try ControlRoute.rejoin.arguments([:]) }
        #expect(throws: ControlRequestError("unknown field \"force_rewnd\" for POST /switchover (fields: siblings_follow, force_rewind, always_promote, dry_run)")) {
            try ControlRoute.switchover.arguments(["force_rewnd": .bool(true)])
        }
        #expect(throws: ControlRequestError("field \"upstream_node_id\" of POST /follow must be a whole number")) {
            try ControlRoute.follow.arguments(["upstream_node_id": .text("2")])
        }
        #expect(throws: ControlRequestError.self) { try ControlRoute.pause.arguments(["dry_run": .bool(true)]) }
    }

    @Test("remote_transport=http: each remote keel command keel runs maps to a keeld route, and back to the same command")
    func keeldCalls() throws {
        let commands: [[String]] = [
            ["node", "service", "--action=stop", "--checkpoint"], ["node", "service", "--list-actions", "--action=stop"],
            ["node", "service", "--action", "start", "--dry-run"], ["node", "rejoin", "-d", "host=b password=x", "--force-rewind"],
            ["node", "rejoin", "-d", "host=b", "--config-files", "a.conf,b.conf"], ["standby", "follow", "--upstream-node-id", "2"],
            ["witness", "register", "-d", "host=b", "--force"], ["standby", "switchover", "--siblings-follow", "--always-promote"],
            ["standby", "promote"], ["service", "pause"],
        ]
        for command in commands {
            guard case .control(let route, let fields) = try KeeldCall.from(arguments: command) else {
                Issue.record("\(command) is not a control call")
                continue
            }
            #expect(try route.arguments(fields).sorted() == command.map { $0 == "--action" ? "--action=start" : $0 }
                .filter { $0 != "start" }.sorted(), "\(command)")
        }
        #expect(try KeeldCall.from(arguments: ["node", "status", "--is-shutdown-cleanly"]) == .read(path: "/node/shutdown-state"))
        #expect(try KeeldCall.from(arguments: ["cluster", "show", "--csv"]) == .read(path: "/cluster?format=csv"))
        #expect(try KeeldCall.from(arguments: ["cluster", "matrix", "--csv"]) == .read(path: "/cluster/matrix"))
        #expect(try KeeldCall.from(arguments: ["node", "rejoin", "-d", "host=b"]).path == "/rejoin")
        #expect(throws: ControlRequestError.self) { try KeeldCall.from(arguments: ["node", "rejoin", "-d", "h", "--force-rewind=/bin/x"]) }
        #expect(throws: ControlRequestError.self) { try KeeldCall.from(arguments: ["primary", "register"]) }
        #expect(throws: ControlRequestError.self) { try KeeldCall.from(arguments: ["node", "service", "--action=kill"]) }
    }

    @Test("remote_http_port: one port, NODE_ID:PORT pairs, or the port of http_listen")
    func remotePorts() throws {
        #expect(try RemoteHTTPPort.parse("").port(for: 2, httpListen: "0.0.0.0:8008") == 8008)
        #expect(try RemoteHTTPPort.parse("").port(for: 2, httpListen: "") == nil)
        #expect(try RemoteHTTPPort.parse("9000").port(for: 2, httpListen: "8008") == 9000)
        let pairs = try RemoteHTTPPort.parse("1:8001, 2:8002")
        #expect(pairs.port(for: 2, httpListen: "") == 8002 && pairs.port(for: 3, httpListen: "8008") == 8008)
        #expect(try RemoteHTTPPort.parse("1:8001,9000").port(for: 3, httpListen: "") == 9000)
        for bad in ["x", "1:", "0:80", "1:70000", "1:80,1:81", "80,81", "1:2:3"] {
            #expect(throws: KeelError.self, "\(bad)") { try RemoteHTTPPort.parse(bad) }
        }
        let error = ConfigFixtures.failure("remote_transport=http\nremote_http_port='2:80,2:81'\n")
        #expect(error?.errors.map(\.key) == ["remote_http_port"])
        #expect(error?.errors.first?.line == 6 && error?.errors.first?.description.contains("at \"2:81\"") == true,
                "\(String(describing: error?.errors.first?.description))")
        #expect(ConfigFixtures.failure("remote_transport=scp\n")?.errors.map(\.key) == ["remote_transport"])
        #expect(try ConfigFixtures.parse("remote_transport=http\n").remoteOverHTTP)
        #expect(try !ConfigFixtures.parse("").remoteOverHTTP)
    }
}
