/// When a fenced node may take writes again: only when it verifies it is still the only primary.
///
/// All of: it fenced because it was isolated (a former primary never unfences: it rejoins); its
/// timeline and voting term are those it fenced with; no reachable node runs as primary or shows a later
/// timeline or higher term; the isolation rule no longer fences; and a majority of the nodes sharing it as
/// upstream, itself included, see it.
public enum UnfenceRule {
    /// `nil` when the node may unfence, else why it stays fenced (a sentence).
    public static func blocker(fact: FenceFact, timeline: Int, term: Int?, sightings: [NodeSighting],
                               isolation: IsolationRule.Verdict) -> String? {
        if fact.reason == .formerPrimary {
            return "this node is a former primary: it rejoins the current primary (keel node rejoin, or auto_rejoin=on)"
        }
        if timeline != fact.timeline { return "its timeline changed from \(fact.timeline) to \(timeline) while fenced" }
        if let fenced = fact.term, let now = term, now != fenced {
            return "the voting term changed from \(fenced) to \(now) while fenced"
        }
        if let evidence = Supersession.evidence(timeline: timeline, term: term ?? fact.term, sightings: sightings) {
            return evidence.sentence
        }
        if let other = sightings.first(where: { $0.reachable && $0.type != .witness && $0.isInRecovery == false }) {
            return "\(other.label) also runs as primary"
        }
        if isolation.isolated { return isolation.sentence }
        guard Double(1 + isolation.visible) > Double(1 + isolation.sharing) / 2 else {
            return "only \(isolation.visible) of \(isolation.sharing) nodes sharing this primary as upstream are visible: "
                + "a majority must see it"
        }
        return nil
    }
}
