import Testing
@testable import KeelCore

/// keeld's connection deadlines, derived from `monitor_interval_secs` and `reconnect_interval`.
@Suite("connection deadlines")
struct ConnectionDeadlinesTests {
    @Test("repmgr's defaults (2 s checks, 10 s between attempts): every call bounded by 2 s")
    func defaults() {
        let d = ConnectionDeadlines(monitorInterval: 2, reconnectInterval: 10)
        #expect(d.connect == 2)
        #expect(d.query == 2)
        #expect(d.statementTimeoutMs == 1600)
        #expect(d.connectTimeoutSecs == 2)
        #expect(d.keepalivesIdle == 2)
        #expect(d.keepalivesInterval == 1)
        #expect(d.keepalivesCount == 3)
        #expect(d.tcpUserTimeoutMs == 5000)
    }

    @Test("the smaller of the two settings sets the deadline, within 1 s and 60 s")
    func clamped() {
        #expect(ConnectionDeadlines.callDeadline(monitorInterval: 1, reconnectInterval: 1) == 1)
        #expect(ConnectionDeadlines.callDeadline(monitorInterval: 30, reconnectInterval: 5) == 5)
        #expect(ConnectionDeadlines.callDeadline(monitorInterval: 0, reconnectInterval: 0) == 1)
        #expect(ConnectionDeadlines.callDeadline(monitorInterval: 600, reconnectInterval: 300) == 60)
        let fast = ConnectionDeadlines(monitorInterval: 1, reconnectInterval: 1)
        #expect(fast.connect == 1 && fast.query == 1 && fast.statementTimeoutMs == 800)
        // libpq's connect_timeout floor is 2 s; the client deadline is the binding one.
        #expect(fast.connectTimeoutSecs == 2)
    }

    @Test("property: a call ends before the next attempt is due, and a dead idle peer is noticed within a few deadlines")
    func property() {
        for i in 1...120 {
            for r in [1, 2, 3, 5, 10, 30, 60, 120] {
                let d = ConnectionDeadlines(monitorInterval: Double(i), reconnectInterval: Double(r))
                let t = ConnectionDeadlines.callDeadline(monitorInterval: Double(i), reconnectInterval: Double(r))
                #expect(d.connect <= Double(max(1, min(i, r))))
                #expect(d.query <= t)
                #expect(Double(d.statementTimeoutMs) / 1000 < d.query)
                #expect(d.deadPeerWindow <= 5 * t + 2)
                #expect(d.deadPeerWindow >= t)
            }
        }
    }

    @Test("the operator's own keywords win; statement_timeout rides in options unless options is set")
    func conninfoParameters() {
        let d = ConnectionDeadlines(monitorInterval: 2, reconnectInterval: 10)
        let all = Dictionary(uniqueKeysWithValues: d.conninfoParameters(existing: []).map { ($0.keyword, $0.value) })
        #expect(all == ["connect_timeout": "2", "keepalives": "1", "keepalives_idle": "2", "keepalives_interval": "1",
                        "keepalives_count": "3", "tcp_user_timeout": "5000", "options": "-c statement_timeout=1600"])
        let kept = d.conninfoParameters(existing: ["connect_timeout", "options"]).map(\.keyword)
        #expect(!kept.contains("connect_timeout") && !kept.contains("options"))
        #expect(kept.contains("keepalives"))
    }
}
