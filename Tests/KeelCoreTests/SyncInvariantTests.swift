import Testing
@testable import KeelCore

/// Exhaustive checks of synchronous mode's two promises, over every small case.
@Suite("synchronous mode: exhaustive invariants")
struct SyncInvariantTests {
    /// Every quorum over standbys 2, 3, 4 (count 1…size), and asynchronous.
    static let quorums: [SyncSet] = {
        var all: [SyncSet] = [.async]
        for mask in 1..<8 {
            let members = Set([2, 3, 4].enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element))
            for count in 1...members.count { all.append(SyncSet(count: count, members: members)) }
        }
        return all
    }()

    /// The primary's plan, run to its fixed point after each change of the desired quorum, every sequence of
    /// three desired quorums (13³): after every single step, every quorum that may have acknowledged a
    /// commit (all those applied since the record last narrowed, the narrowing having proven that the new
    /// quorum holds everything before) is covered by the record. This is "the set in force when a commit
    /// was acknowledged counts" while M and N change with commits in flight.
    @Test("the record always covers every quorum that acknowledged a commit")
    func recordCoversAcknowledgingQuorums() {
        var checked = 0
        for a in Self.quorums { for b in Self.quorums { for c in Self.quorums {
            var record: SyncRecord?
            var applied: SyncSet = .async
            var acknowledging: [SyncSet] = []
            for desired in [a, b, c] {
                for _ in 0..<6 {
                    let step = SyncPlan.next(record: record, applied: applied, desired: desired, narrowingVerified: true)
                    switch step {
                    case .none, .awaitNarrowing: break
                    case .widenRecord(let r): record = r
                    case .apply(let set):
                        applied = set
                        acknowledging.append(set)
                    case .narrowRecord(let r):
                        record = r
                        acknowledging = [r.set]
                    }
                    for quorum in acknowledging where !quorum.isAsync {
                        #expect(record?.set.covers(quorum) == true, "\([a, b, c]) after \(step): \(String(describing: record)) vs \(quorum)")
                    }
                    checked += 1
                    if step == .none || step == .awaitNarrowing { break }
                }
                #expect(applied == desired, "\([a, b, c]): the plan reaches \(desired)")
                if let record { #expect(!record.set.isAsync, "the record never becomes asynchronous") }
            }
        } } }
        #expect(checked > 2000)
    }

    /// A standby of a record's set, as the electing node sees it.
    static func member(_ id: Int, lsn: UInt64?, record: SyncRecord?, caughtUp: Bool = true) -> PeerView {
        PeerView(nodeID: id, name: "node\(id)", type: .standby, upstreamNodeID: 1, reachable: lsn != nil,
                 isInRecovery: lsn == nil ? nil : true, lastReceivedLSN: lsn.map(LSN.init), syncRecord: lsn == nil ? nil : record,
                 replayCaughtUp: caughtUp)
    }

    /// For M = 1…4 standbys, every N ≤ M, every assignment of LSNs 1…3 to the members and every subset of
    /// them reporting: when the rule proves a position, it is at or past every acknowledged commit (the
    /// highest LSN held by at least N members); and when every member reports, the rule proves one.
    @Test("ANY N over M: M − N + 1 reports prove the most advanced holds every acknowledged commit")
    func quorumArithmetic() {
        var proofs = 0
        var blocks = 0
        for m in 1...4 {
            let ids = Array(2..<(2 + m))
            for n in 1...m {
                let record = SyncRecord(generation: 1, set: SyncSet(count: n, members: Set(ids)))
                for assignment in 0..<Int(pow3(m)) {
                    let lsns = ids.indices.map { UInt64((assignment / Int(pow3($0))) % 3 + 1) }
                    let acknowledged = lsns.sorted(by: >)[n - 1]
                    for mask in 0..<(1 << m) {
                        let nodes = ids.indices.map { i in
                            Self.member(ids[i], lsn: mask & (1 << i) != 0 ? lsns[i] : nil, record: record)
                        }
                        switch SyncFailoverRule.evaluate(mode: .quorum(n), nodes: nodes) {
                        case .proven(let required, _, _):
                            proofs += 1
                            #expect(required.value >= acknowledged, "M=\(m) N=\(n) lsns=\(lsns) reporting=\(mask)")
                        case .blocked:
                            blocks += 1
                            #expect(mask != (1 << m) - 1, "all \(m) reported and nothing proven")
                            #expect(mask.nonzeroBitCount < m - n + 1)
                        case .unconstrained:
                            Issue.record("quorum mode is never unconstrained")
                        }
                    }
                }
            }
        }
        #expect(proofs > 0 && blocks > 0)
    }

    private func pow3(_ e: Int) -> Double { (0..<e).reduce(1.0) { r, _ in r * 3 } }

    @Test("the rule: newest record among the nodes that count; lagging replay does not count; none recorded blocks")
    func ruleCases() {
        let old = SyncRecord(generation: 1, set: SyncSet(count: 1, members: [2]))
        let new = SyncRecord(generation: 2, set: SyncSet(count: 1, members: [2, 3]))
        // node 2 replayed only the old record, node 3 the new one: the new one is in force, and both reported
        let both = SyncFailoverRule.evaluate(mode: .quorum(1), nodes: [Self.member(2, lsn: 5, record: old), Self.member(3, lsn: 7, record: new)])
        #expect(both == .proven(required: LSN(7), record: new, reporters: [3, 2]))
        // node 3 unreachable: only node 2 with the old record; the old record's rule holds for it
        let alone = SyncFailoverRule.evaluate(mode: .quorum(1), nodes: [Self.member(2, lsn: 5, record: old), Self.member(3, lsn: nil, record: new)])
        #expect(alone == .proven(required: LSN(5), record: old, reporters: [2]))
        // node 3 reachable but still replaying: it counts neither as a reporter nor as a source of the record
        let lagging = SyncFailoverRule.evaluate(mode: .quorum(1), nodes: [Self.member(2, lsn: 5, record: new),
                                                                          Self.member(3, lsn: 7, record: new, caughtUp: false)])
        guard case .blocked(let reason) = lagging else { Issue.record("\(lagging)"); return }
        #expect(reason.contains("only 1 of the 2 standbys"))
        // nothing recorded anywhere, quorum mode: blocked; off: unconstrained
        let none = [Self.member(2, lsn: 5, record: nil), Self.member(3, lsn: 7, record: nil)]
        guard case .blocked(let why) = SyncFailoverRule.evaluate(mode: .quorum(1), nodes: none) else { Issue.record("not blocked"); return }
        #expect(why.contains("no reporting standby holds a recorded synchronous standby set"))
        #expect(SyncFailoverRule.evaluate(mode: .off, nodes: none) == .unconstrained)
    }
}
