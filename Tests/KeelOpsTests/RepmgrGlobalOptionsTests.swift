import Testing
@testable import KeelOps

/// repmgr's global options on commands that do not use them: found in the help, removed with their values.
@Suite("repmgr global options")
struct RepmgrGlobalOptionsTests {
    static let help = """
        OPTIONS:
          -f, --config-file <config-file>
                                  Configuration file (default: ./keel.conf).
          --node-id <node-id>     Only events of this node (see also --node-name).
          -W, --no-wait           Do not wait (= --wait=0).
          --csv                   CSV output.
          -?, --help              Show help information.
        """

    @Test("declared names come from the name column only, not from descriptions")
    func declared() {
        let names = RepmgrGlobalOptions.declaredNames(inHelp: Self.help)
        #expect(names == ["-f", "--config-file", "--node-id", "-W", "--no-wait", "--csv", "-?", "--help"])
    }

    @Test("undeclared options are removed with their values, attached or separate; declared ones and words stay")
    func strip() {
        let declared = RepmgrGlobalOptions.declaredNames(inHelp: Self.help)
        let args = ["cluster", "event", "--node-id", "3", "-R", "postgres", "-Spg", "--wait", "--wait-sync=10", "--remote-config-file=/x.conf",
                    "--optformat", "-W", "--csv", "-f", "k.conf", "--wait-start", "30", "--", "--nagios"]
        let (kept, ignored) = RepmgrGlobalOptions.strip(args, declared: declared)
        #expect(kept == ["cluster", "event", "--node-id", "3", "-W", "--csv", "-f", "k.conf", "--", "--nagios"])
        #expect(ignored == ["-R postgres", "-S pg", "--wait", "--wait-sync=10", "--remote-config-file=/x.conf", "--optformat",
                            "--wait-start=30"])
    }

    @Test("a declared flag keeps its name when repmgr's optional value is attached: the value is ignored and reported")
    func flagWithValue() {
        let declared = RepmgrGlobalOptions.declared(inHelp: "  -w, --wait              Wait.\n  --upstream-node-id <id> The node.\n")
        #expect(declared == ["-w": false, "--wait": false, "--upstream-node-id": true])
        let (kept, ignored) = RepmgrGlobalOptions.strip(["standby", "follow", "--wait=30", "--upstream-node-id", "2"], declared: declared)
        #expect(kept == ["standby", "follow", "--wait", "--upstream-node-id", "2"])
        #expect(ignored == ["--wait=30"])
        #expect(RepmgrGlobalOptions.isValueOnly("--wait=30", declared: declared))
        #expect(!RepmgrGlobalOptions.isValueOnly("--wait-sync=30", declared: declared))
    }

    @Test("an optional value is only taken when attached: `--wait 5` leaves 5 to the command")
    func optionalValue() {
        let (kept, ignored) = RepmgrGlobalOptions.strip(["daemon", "start", "--wait", "5"], declared: [])
        #expect(kept == ["daemon", "start", "5"])
        #expect(ignored == ["--wait"])
    }
}
