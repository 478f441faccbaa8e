import Foundation

/// Judges a `Writer`'s log of acknowledged writes: whether two nodes acknowledged writes in
/// overlapping time, how long the old and new primary both took writes, and whether the
/// surviving primary still has every write it acknowledged.
public struct SplitBrainChecker: Sendable {
    /// The acknowledged writes, in acknowledgement order.
    public let writes: [AcknowledgedWrite]

    /// Judges `writes` (any order).
    public init(_ writes: [AcknowledgedWrite]) {
        self.writes = writes.sorted { $0.acknowledged < $1.acknowledged }
    }

    /// The nodes that acknowledged writes after `time`, each with its first and last
    /// acknowledgement then, by first acknowledgement.
    public func spans(after time: Double) -> [(node: String, first: Double, last: Double)] {
        var spans: [String: (Double, Double)] = [:]
        for write in writes where write.acknowledged > time {
            let span = spans[write.node] ?? (write.acknowledged, write.acknowledged)
            spans[write.node] = (min(span.0, write.acknowledged), max(span.1, write.acknowledged))
        }
        return spans.map { (node: $0.key, first: $0.value.0, last: $0.value.1) }.sorted { $0.first < $1.first }
    }

    /// A description of every pair of nodes whose acknowledgements after `deadline` overlap in
    /// time (two primaries taking writes at once); empty when there is none.
    public func overlaps(after deadline: Double) -> [String] {
        let spans = spans(after: deadline)
        var found: [String] = []
        for (i, a) in spans.enumerated() {
            for b in spans[(i + 1)...] where b.first <= a.last {
                found.append(String(format: "%@ acknowledged writes until %.3f s and %@ from %.3f s (after the deadline %.3f s)",
                                    a.node, a.last, b.node, b.first, deadline))
            }
        }
        return found
    }

    /// The first write `node` acknowledged after `time`.
    public func firstAcknowledgement(by node: String, after time: Double) -> Double? {
        writes.first { $0.node == node && $0.acknowledged > time }?.acknowledged
    }

    /// The last write `node` acknowledged.
    public func lastAcknowledgement(by node: String) -> Double? {
        writes.last { $0.node == node }?.acknowledged
    }

    /// The split-brain window in seconds: how long after the new primary's first
    /// acknowledgement (after `time`) the old primary acknowledged its last write; 0 when it
    /// stopped first, nil when the new primary acknowledged nothing.
    public func window(old: String, new: String, after time: Double) -> Double? {
        guard let first = firstAcknowledgement(by: new, after: time) else { return nil }
        guard let last = lastAcknowledgement(by: old) else { return 0 }
        return max(0, last - first)
    }

    /// The values `node` acknowledged that are not among `present` (what its table holds now).
    public func lost(on node: String, present: Set<Int64>) -> [Int64] {
        writes.filter { $0.node == node && !present.contains($0.value) }.map(\.value)
    }
}
