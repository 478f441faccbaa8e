import Testing
@testable import KeelCore

/// `synchronous_mode`: the key, `synchronous_standby_names` in keeld's form, the primary's plan and the
/// failover rule.
@Suite("synchronous mode: key, standby names, plan")
struct SyncModeTests {
    @Test("synchronous_mode: off or quorum:N", arguments: [
        ("off", SynchronousMode.off), ("OFF", .off), ("", .off), ("quorum:1", .quorum(1)), ("Quorum: 2", .quorum(2)),
        (" quorum:3 ", .quorum(3)),
    ])
    func parsesMode(_ text: String, _ expected: SynchronousMode) throws {
        #expect(try SynchronousMode.parse(text) == expected)
    }

    @Test("anything else is refused, naming the key", arguments: ["quorum", "quorum:0", "quorum:x", "sync", "first:1", "quorum:-1", "on"])
    func refusesMode(_ text: String) throws {
        let error = try #require(ConfigFixtures.failure("synchronous_mode='\(text)'\n"))
        let diagnostic = try #require(error.errors.first)
        #expect(diagnostic.key == "synchronous_mode")
        #expect(diagnostic.line == 5, "the line after the four required keys")
        #expect(diagnostic.message.contains("synchronous_mode"))
    }

    @Test("the keys load with their defaults and values")
    func keys() throws {
        let defaults = try ConfigFixtures.parse("")
        #expect(defaults.synchronousMode == .off)
        #expect(defaults.synchronousModeStrict == false)
        let set = try ConfigFixtures.parse("synchronous_mode=quorum:2\nsynchronous_mode_strict=on\n")
        #expect(set.synchronousMode == .quorum(2))
        #expect(set.synchronousModeStrict)
        #expect(FailoverSettings(config: set).synchronousMode == .quorum(2))
    }

    @Test("synchronous_standby_names: rendered sorted by node ID, quoted, and read back")
    func standbyNames() {
        let names = [2: "node2", 3: "node3", 4: "we\"ird"]
        let ids = Dictionary(uniqueKeysWithValues: names.map { ($0.value, $0.key) })
        let set = SyncSet(count: 1, members: [4, 3, 2])
        let text = SyncStandbyNames.render(set, names: names)
        #expect(text == "ANY 1 (\"node2\", \"node3\", \"we\"\"ird\")")
        #expect(SyncStandbyNames.parse(text, ids: ids) == set)
        #expect(SyncStandbyNames.render(.async, names: names) == "")
        #expect(SyncStandbyNames.parse("", ids: ids) == .async)
        #expect(SyncStandbyNames.parse("ANY 2 (node2, node3)", ids: ids) == SyncSet(count: 2, members: [2, 3]))
        for foreign in ["FIRST 1 (node2)", "node2, node3", "*", "ANY 1 (\"other\")", "ANY x (node2)", "2 (node2)"] {
            #expect(SyncStandbyNames.parse(foreign, ids: ids) == nil, "\(foreign)")
        }
    }

    struct DesiredCase: Sendable, CustomTestStringConvertible {
        let name: String
        let mode: SynchronousMode
        let strict: Bool
        let healthy: Set<Int>
        let applied: SyncSet?
        let expected: SyncSet
        var testDescription: String { name }
    }

    static let desiredCases: [DesiredCase] = [
        .init(name: "off: asynchronous", mode: .off, strict: false, healthy: [2, 3], applied: nil, expected: .async),
        .init(name: "quorum:1, two healthy", mode: .quorum(1), strict: false, healthy: [2, 3], applied: nil,
              expected: SyncSet(count: 1, members: [2, 3])),
        .init(name: "quorum:2, two healthy", mode: .quorum(2), strict: false, healthy: [2, 3], applied: nil,
              expected: SyncSet(count: 2, members: [2, 3])),
        .init(name: "quorum:2, one healthy, not strict: ANY 1 of it", mode: .quorum(2), strict: false, healthy: [3],
              applied: SyncSet(count: 2, members: [2, 3]), expected: SyncSet(count: 1, members: [3])),
        .init(name: "quorum:1, none healthy, not strict: asynchronous", mode: .quorum(1), strict: false, healthy: [],
              applied: SyncSet(count: 1, members: [2, 3]), expected: .async),
        .init(name: "quorum:1, none healthy, strict: keep waiting on the applied set", mode: .quorum(1), strict: true,
              healthy: [], applied: SyncSet(count: 1, members: [2, 3]), expected: SyncSet(count: 1, members: [2, 3])),
        .init(name: "quorum:2, one healthy, strict: N over it and the applied members", mode: .quorum(2), strict: true,
              healthy: [4], applied: SyncSet(count: 2, members: [2, 3]), expected: SyncSet(count: 2, members: [2, 3, 4])),
        .init(name: "quorum:2, none healthy, strict, nothing applied: N over the registered standbys", mode: .quorum(2),
              strict: true, healthy: [], applied: nil, expected: SyncSet(count: 2, members: [2, 3])),
        .init(name: "quorum:1, a third standby joins: it is added", mode: .quorum(1), strict: false, healthy: [2, 3, 4],
              applied: SyncSet(count: 1, members: [2, 3]), expected: SyncSet(count: 1, members: [2, 3, 4])),
    ]

    @Test("the quorum asked for", arguments: desiredCases)
    func desired(_ c: DesiredCase) {
        #expect(SyncPlan.desired(mode: c.mode, strict: c.strict, healthy: c.healthy, applied: c.applied,
                                 registered: [2, 3, 4]) == c.expected)
    }

    @Test("one step at a time: record before widening, apply, narrow the record once verified")
    func steps() {
        let s23 = SyncSet(count: 1, members: [2, 3])
        let s2 = SyncSet(count: 1, members: [2])
        let s234 = SyncSet(count: 1, members: [2, 3, 4])
        let r23 = SyncRecord(generation: 4, set: s23)
        // first time: record, then apply
        #expect(SyncPlan.next(record: nil, applied: .async, desired: s23, narrowingVerified: false)
                == .widenRecord(SyncRecord(generation: 1, set: s23)))
        #expect(SyncPlan.next(record: r23, applied: .async, desired: s23, narrowingVerified: false) == .apply(s23))
        #expect(SyncPlan.next(record: r23, applied: s23, desired: s23, narrowingVerified: true) == .none)
        // a standby joins: the record widens first
        #expect(SyncPlan.next(record: r23, applied: s23, desired: s234, narrowingVerified: false)
                == .widenRecord(SyncRecord(generation: 5, set: s234)))
        // a standby leaves: apply first, the record narrows only once verified
        #expect(SyncPlan.next(record: r23, applied: s23, desired: s2, narrowingVerified: false) == .apply(s2))
        #expect(SyncPlan.next(record: r23, applied: s2, desired: s2, narrowingVerified: false) == .awaitNarrowing)
        #expect(SyncPlan.next(record: r23, applied: s2, desired: s2, narrowingVerified: true)
                == .narrowRecord(SyncRecord(generation: 5, set: s2)))
        // N grows from 1 to 2 over the same set: narrower (more waiting): apply first
        let two = SyncSet(count: 2, members: [2, 3])
        #expect(SyncPlan.next(record: r23, applied: s23, desired: two, narrowingVerified: false) == .apply(two))
        // N falls from 2 to 1: wider: record first, with the smaller N
        #expect(SyncPlan.next(record: SyncRecord(generation: 2, set: two), applied: two, desired: s23, narrowingVerified: false)
                == .widenRecord(SyncRecord(generation: 3, set: s23)))
        // no healthy standby, not strict: asynchronous, the record stays
        #expect(SyncPlan.next(record: r23, applied: s23, desired: .async, narrowingVerified: false) == .apply(.async))
        #expect(SyncPlan.next(record: r23, applied: .async, desired: .async, narrowingVerified: true) == .none)
        // a setting keeld did not write is replaced
        #expect(SyncPlan.next(record: r23, applied: nil, desired: s23, narrowingVerified: false) == .apply(s23))
    }

    @Test("holdsAll: N members flushed at or past the position")
    func holdsAll() {
        let set = SyncSet(count: 2, members: [2, 3, 4])
        let lsn = LSN(0x5000)
        #expect(SyncPlan.holdsAll(set, before: lsn, flushed: [2: LSN(0x5000), 3: LSN(0x6000), 4: LSN(0x10)]))
        #expect(!SyncPlan.holdsAll(set, before: lsn, flushed: [2: LSN(0x5000), 3: LSN(0x4FFF), 9: LSN(0x9000)]))
    }
}
