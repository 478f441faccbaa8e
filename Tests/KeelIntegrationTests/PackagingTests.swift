import Foundation
import Testing
import KeelTesting

/// `packaging/install.sh` staged into a folder (`DESTDIR`): binaries, keeld's systemd unit (Type=notify,
/// SIGHUP reload, the pid file) and logrotate's file signalling that pid file.
@Suite("packaging")
struct PackagingTests {
    static let packaging = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("packaging").path

    @Test("install.sh installs keel, keeld, keeld.service and logrotate's keeld; the unit and logrotate agree on the pid file")
    func install() throws {
        let workspace = try TestWorkspace(name: "packaging")
        defer { workspace.close() }
        let bin = try workspace.stageKeelBinaries()
        let stage = workspace.path + "/stage"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [Self.packaging + "/install.sh"]
        process.environment = ["BIN_DIR": bin, "DESTDIR": stage, "PREFIX": "/opt/keel", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        for binary in ["keel", "keeld"] {
            #expect(FileManager.default.isExecutableFile(atPath: stage + "/opt/keel/bin/" + binary), "\(binary)")
        }
        let unit = try String(contentsOfFile: stage + "/etc/systemd/system/keeld.service", encoding: .utf8)
        #expect(unit.contains("Type=notify") && unit.contains("ExecReload=/bin/kill -HUP $MAINPID"))
        #expect(unit.contains("ExecStart=/opt/keel/bin/keeld -f /etc/keel/keel.conf --pid-file /run/keeld/keeld.pid"), "\(unit)")
        let logrotate = try String(contentsOfFile: stage + "/etc/logrotate.d/keeld", encoding: .utf8)
        #expect(logrotate.contains("kill -HUP \"$(cat /run/keeld/keeld.pid)\"") && !logrotate.contains("killall"))

        let missing = Process()
        missing.executableURL = URL(fileURLWithPath: "/bin/sh")
        missing.arguments = [Self.packaging + "/install.sh"]
        missing.environment = ["BIN_DIR": workspace.path + "/nothing", "DESTDIR": stage]
        missing.standardError = FileHandle.nullDevice
        try missing.run()
        missing.waitUntilExit()
        #expect(missing.terminationStatus == 1, "no binaries: refused")
    }
}
