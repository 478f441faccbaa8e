/// repmgr's text tables: ` ID | Name  | Role ` with a `----+-------` rule under the header.
public struct TextTable: Sendable {
    public var headers: [String]
    public var rows: [[String]]

    public init(headers: [String], rows: [[String]]) {
        self.headers = headers
        self.rows = rows
    }

    public func render() -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in " " + cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) + " " }
                .joined(separator: "|").replacingTrailingSpaces()
        }
        var out = [line(headers), widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "+")]
        out.append(contentsOf: rows.map(line))
        return out.joined(separator: "\n")
    }
}

extension String {
    fileprivate func padding(toLength length: Int, withPad pad: String, startingAt: Int) -> String {
        count >= length ? self : self + String(repeating: pad, count: length - count)
    }

    fileprivate func replacingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
