#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// The question `keel run` asks before an operation that changes the cluster, unless `--yes`: on a
/// terminal it waits for `y`; when standard input is not a terminal it refuses at once (never blocks).
enum PlaybookConfirmation {
    /// Returns normally when the operator agreed to `action`; throws `KeelError` 1 otherwise.
    static func confirm(_ action: String) throws {
        guard isatty(STDIN_FILENO) == 1 else {
            throw KeelError(.badConfig, "\(action): confirmation needed, but standard input is not a terminal",
                            hint: "run keel run with --yes to allow the playbook's operations without asking")
        }
        writeStandardError("keel run: \(action). Proceed? [y/N] ")
        let answer = readLine()?.trimmingSpaces().lowercased() ?? ""
        guard answer == "y" || answer == "yes" else {
            throw KeelError(.badConfig, "\(action): not confirmed")
        }
    }
}
