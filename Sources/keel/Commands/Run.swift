import ArgumentParser
import KeelOps

/// `keel run PLAYBOOK.lua [--dry-run] [--json] [--yes] [NAME=VALUE ...]`: runs a Lua playbook.
struct Run: KeelCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Lua playbook (a runbook of steps) against the cluster.",
        discussion: """
            Steps print as numbered lines with their duration and result (ok, failed: reason, skipped, \
            would: …). --dry-run runs every check and reports what each operation would do, changing nothing; \
            --json prints one JSON object per step and a summary. Operations that change the cluster ask for \
            confirmation on a terminal unless --yes (without a terminal they fail instead). Exit status: 0 ok, \
            1 bad playbook or arguments or a failed step, the failing operation's status, 130 interrupted.
            """)
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.customShort("y"), .long], help: "Run the playbook's operations without asking for confirmation.") var yes = false
    @Argument(help: "The playbook file (.lua).") var playbook: String
    @Argument(help: "Playbook arguments, NAME=VALUE (keel.args).") var assignments: [String] = []

    func execute() async throws {
        try await perform {
            try await PlaybookRun(path: playbook, assignments: assignments, yes: yes, context: try global.makeContext()).run()
        }
    }
}
