import KeelCore
import KeelDCS
import KeelOps

/// The part of `keel cluster show` (text output) that comes from the consensus store when `dcs` is set:
/// who holds the leader key and what each keeld last published.
struct ConsensusSection {
    let context: OpsContext

    private var settings: DCSSettings? { DCSSettings(config: context.config) }

    var isConfigured: Bool { settings != nil }

    func print() {
        guard let settings, context.format == .text else { return }
        do {
            let (heading, rows) = try ConsensusView.read(settings).rows()
            context.output("\nConsensus store \(settings.prefix): \(heading)")
            let table = TextTable(headers: ["ID", "Name", "Role", "LSN", "Timeline", "Fenced", "Leader"], rows: rows)
            context.output(table.render())
        } catch {
            context.logger.warning("unable to read the consensus store: \(error)")
        }
    }
}
