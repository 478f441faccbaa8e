import Foundation
import Logging
import Testing
import KeelCore
@testable import KeelDaemon

/// keeld stopped or crashed at any moment and started again: what it persisted brings the node back.
@Suite("keeld restarted in any state", .serialized)
struct RestartTests {
    static let disconnecting = with { $0.reconnectAttempts = 1; $0.standbyDisconnectOnFailover = true; $0.siblingNodesDisconnectTimeout = 30 }

    @Test("crashed while the WAL receiver was stopped for the election: the restarted keeld restores it and forgets the fact")
    func restoresStoppedReceiver() async throws {
        let run = DriverRun(Self.disconnecting)
        try await run.run(until: 3) { now, port in port.upstreamUp = now < 1 }
        #expect(run.kind == .disconnectingSiblings)
        #expect(run.port.primaryConninfo == "")
        #expect(run.facts.stored == DaemonFacts(nodeID: 2, stoppedWALReceiverConninfo: "host=alpha port=5432 user=repmgr"))
        run.restart()
        #expect(run.port.primaryConninfo == "host=alpha port=5432 user=repmgr")
        #expect(run.facts.stored == nil)
        #expect(run.port.logs.contains { $0.1.contains("WAL receiver restored") })
    }

    @Test("a restart at any moment of any run leaves no standby detached and no fact behind, and never promotes twice")
    func restartAnywhere() async throws {
        let worlds = StandbyDriverTests.worlds + [(Self.disconnecting, { now, port in
            port.upstreamUp = now < 1; port.siblingsStopped = now > 8 }), (Self.disconnecting, { now, port in
            port.upstreamUp = now < 1 || now > 5 })]
        for (index, (settings, world)) in worlds.enumerated() {
            for crashAt in stride(from: 0.5, through: 18, by: 1.25) {
                let run = DriverRun(settings)
                _ = try? await run.run(until: crashAt, script: world)
                run.restart()
                #expect(run.port.primaryConninfo != "", "world \(index), restart at \(crashAt): detached")
                #expect(run.facts.stored == nil, "world \(index), restart at \(crashAt): facts left")
                _ = try? await run.run(until: 25, script: world)
                #expect(run.port.promotions <= 1, "world \(index), restart at \(crashAt)")
                if run.kind == .monitoring { #expect(run.port.primaryConninfo != "") }
            }
        }
    }

    @Test("facts recorded by another node (a file copied with the data directory) are dropped, nothing restored")
    func foreignFacts() {
        let facts = MemoryFacts()
        facts.stored = DaemonFacts(nodeID: 7, stoppedWALReceiverConninfo: "host=elsewhere")
        let run = DriverRun(fast, facts: facts)
        run.port.primaryConninfo = ""
        run.restart()
        #expect(run.port.primaryConninfo == "")
        #expect(facts.stored == nil)
    }

    @Test("a WAL receiver replaced by a follow is not put back; the fact is forgotten")
    func followReplacedReceiver() {
        let facts = MemoryFacts()
        facts.stored = DaemonFacts(nodeID: 2, stoppedWALReceiverConninfo: "host=alpha")
        let run = DriverRun(fast, facts: facts)
        run.port.primaryConninfo = "host=charlie"
        run.restart()
        #expect(run.port.primaryConninfo == "host=charlie")
        #expect(facts.stored == nil)
    }

    @Test("the facts file: mode 0600, replaced atomically, removed when empty, a corrupt one ignored with an error naming it")
    func factsFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keeld-facts-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = FactsFile(dataDirectory: directory, logger: Logger(label: "test"))
        let facts = DaemonFacts(nodeID: 2, stoppedWALReceiverConninfo: "host=a password=secret")
        #expect(file.save(facts))
        #expect(file.load() == facts)
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(!FileManager.default.fileExists(atPath: file.path + ".tmp"))
        #expect(file.save(DaemonFacts(nodeID: 2)))
        #expect(!FileManager.default.fileExists(atPath: file.path))
        #expect(file.load() == nil)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: file.path))
        #expect(file.load() == nil)
        #expect(throws: KeelError.self) { try DaemonFacts.decode(Data("{".utf8), path: file.path) }
    }
}
