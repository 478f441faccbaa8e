import Foundation
import KeelCore
import KeelDaemon
import KeelLua
import KeelOps
import Logging

// keel-bench: the measurements behind `scripts/bench hooks` (not a test; nothing is asserted).
//
//   keel-bench hooks HOOKS_DIR [CALLS] [EVENTS]
//
// 1. Failover validation as a Lua hook (HOOKS_DIR/failover_validation.lua#validate, the sample) against the same
//    checks as a shell hook run with /bin/sh -c, CALLS calls each (default 1000) after 100 warm-up calls, each
//    through HookRunner.run as keeld calls it: p50, p99, mean, and the ratio.
// 2. The event queue (NotificationQueue, as in keeld) delivering EVENTS events (default 10000) to the sample
//    notify.lua hook (appending JSON lines to a temporary file): events/s; then the same burst into a queue of the
//    default capacity (256) to show the drops being counted.

let arguments = CommandLine.arguments
guard arguments.count >= 3, arguments[1] == "hooks" else {
    FileHandle.standardError.write(Data("usage: keel-bench hooks HOOKS_DIR [CALLS] [EVENTS]\n".utf8))
    exit(1)
}
let hooksDirectory = URL(fileURLWithPath: arguments[2]).standardizedFileURL.path
let calls = arguments.count > 3 ? Int(arguments[3]) ?? 1000 : 1000
let eventCount = arguments.count > 4 ? Int(arguments[4]) ?? 10000 : 10000
let work = NSTemporaryDirectory() + "keel-bench-hooks-" + UUID().uuidString
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)

let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }

func context(_ extra: String) throws -> OpsContext {
    let config = try KeelConfig.parse(text: """
        node_id=2
        node_name='node2'
        conninfo='host=127.0.0.1 port=1 user=repmgr dbname=repmgr connect_timeout=1'
        data_directory='/nonexistent'
        \(extra)
        """, file: work + "/keel.conf")
    return OpsContext(config: config, logger: quiet, hooks: HookRunner())
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

func show(_ s: Double) -> String {
    s < 1e-3 ? String(format: "%.1f µs", s * 1e6) : String(format: "%.3f ms", s * 1e3)
}

/// Times `calls` runs of the validation hook configured in `ops` (after 100 warm-up runs); all must allow.
func measure(_ ops: OpsContext, _ table: LuaValue) async -> (caller: [Double], vm: [Double]) {
    var caller: [Double] = []
    var vm: [Double] = []
    let clock = ContinuousClock()
    for i in 0..<(calls + 100) {
        let started = clock.now
        let outcome = await ops.hooks.run(.failoverValidation, context: ops, luaContext: table, shellTimeout: 10)
        let elapsed = seconds(clock.now - started)
        guard outcome.succeeded else {
            FileHandle.standardError.write(Data("validation refused: \(outcome.reason ?? "?")\n".utf8))
            try? FileManager.default.removeItem(atPath: work)
            exit(1)
        }
        if i >= 100 {
            caller.append(elapsed)
            if let call = outcome.callSeconds { vm.append(call) }
        }
    }
    return (caller.sorted(), vm.sorted())
}

// 1. validation: Lua vs shell, the same checks (at least 2 visible, lag at most 16 MiB).
let me = PeerView(nodeID: 2, name: "node2", type: .standby, upstreamNodeID: 1, reachable: true, lastReceivedLSN: LSN(0x3000060))
let validation = HookContext.validation(ValidationContext(nodeID: 2, nodeName: "node2", visible: 2, sharedUpstream: 2, total: 3,
                                                          term: 2, lsn: LSN(0x3000060), candidates: [me]),
                                        referenceLSN: LSN(0x3000060))
let luaOps = try context("failover_validation_command='lua:\(hooksDirectory)/failover_validation.lua#validate'")
let shellCheck = #"v=%v; lag=0; [ "$v" -ge 2 ] || { echo "only $v visible"; exit 1; }; [ "$lag" -le 16777216 ] || { echo "lag $lag"; exit 1; }"#
let shellOps = try context("failover_validation_command='\(shellCheck.replacingOccurrences(of: "'", with: "''"))'")
let lua = await measure(luaOps, validation)
let shell = await measure(shellOps, validation)
let luaP50 = percentile(lua.caller, 0.5), luaP99 = percentile(lua.caller, 0.99)
let shP50 = percentile(shell.caller, 0.5), shP99 = percentile(shell.caller, 0.99)
print("failover validation, \(calls) calls each after 100 warm-up calls (HookRunner.run, as keeld calls it):")
print("  lua   lua:hooks/failover_validation.lua#validate  p50 \(show(luaP50))  p99 \(show(luaP99))  mean \(show(lua.caller.reduce(0, +) / Double(calls)))"
      + "  (inside the VM: p50 \(show(percentile(lua.vm, 0.5))), p99 \(show(percentile(lua.vm, 0.99))))")
print("  shell /bin/sh -c (same checks)                  p50 \(show(shP50))  p99 \(show(shP99))  mean \(show(shell.caller.reduce(0, +) / Double(calls)))")
print(String(format: "  shell/lua ratio: p50 %.0f×, p99 %.0f×", shP50 / luaP50, shP99 / luaP99))

// 2. the event queue delivering to the Lua notify hook.
let notifySource = try String(contentsOfFile: hooksDirectory + "/notify.lua", encoding: .utf8)
    .replacingOccurrences(of: "/var/log/keel/events.jsonl", with: work + "/events.jsonl")
try notifySource.write(toFile: work + "/notify.lua", atomically: true, encoding: .utf8)
let eventOps = try context("event_notification_command='lua:\(work)/notify.lua'")
func record(_ i: Int) -> EventRecord {
    EventRecord(nodeID: 2, event: "repmgrd_failover_promote", successful: true, timestamp: "2026-01-01 00:00:00+00",
                details: "bench event \(i)", nodeName: "node2")
}
// Warm the VM (load the script) before timing.
await EventWriter(context: eventOps).notify(record(0), primary: nil)
try? FileManager.default.removeItem(atPath: work + "/events.jsonl")

func burst(capacity: Int) async -> (delivered: Int, dropped: Int, seconds: Double) {
    try? FileManager.default.removeItem(atPath: work + "/events.jsonl")
    let queue = NotificationQueue(capacity: capacity, logger: quiet) { EventWriter(context: eventOps) }
    let clock = ContinuousClock()
    let started = clock.now
    for i in 1...eventCount { queue.enqueue(record(i), primary: nil) }
    await queue.drain(timeout: 600)
    let elapsed = seconds(clock.now - started)
    let lines = ((try? String(contentsOfFile: work + "/events.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").count
    return (lines, queue.dropped, elapsed)
}
let all = await burst(capacity: eventCount)
print(String(format: "event queue → lua notify.lua (JSON line appended per event): %d events delivered in %.3f s = %.0f events/s (%d dropped)",
             all.delivered, all.seconds, Double(all.delivered) / all.seconds, all.dropped))
let bounded = await burst(capacity: 256)
print("the same burst into keeld's default queue (capacity 256): \(bounded.delivered) delivered, \(bounded.dropped) dropped and counted")
try? FileManager.default.removeItem(atPath: work)
