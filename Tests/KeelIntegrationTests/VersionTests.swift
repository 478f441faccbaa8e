import Foundation
import Testing
import KeelTesting

/// repmgr's stand-alone version options, answered before anything else is set up: `-V` and `--version` print
/// `keel <number>`, `--version-number` the number alone, exit 0, nothing on standard error.
@Suite("version options")
struct VersionTests {
    @Test("-V, --version and --version-number print the version and exit 0; with a command they are refused as that command's options")
    func versionOptions() throws {
        let f = try ClusterFixture("version")
        let number = try f.keel("--version-number")
        #expect(number.status == 0 && number.stderr.isEmpty, "\(number)")
        #expect(number.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil, "\(number.stdout)")
        for option in ["-V", "--version"] {
            let run = try f.keel(option)
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
            #expect(run.stdout == "keel " + number.stdout, "\(option): \(run.stdout)")
        }
        // Not alone: parsed with the command, as before (an unknown option of `cluster show` is exit 1).
        let mixed = try f.keel("cluster", "show", "--version-number")
        #expect(mixed.status == 1 && mixed.stdout.isEmpty && mixed.stderr.contains("Unknown option '--version-number'"), "\(mixed)")
    }
}
