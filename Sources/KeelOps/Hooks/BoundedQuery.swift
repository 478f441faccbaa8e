import KeelCore
import KeelPostgres

/// `keel.query`'s read: through a cursor, a batch of rows at a time, so that a result larger than the
/// script's `lua_memory_limit` ends the call with an error before it is held in memory (a plain query
/// would hold the whole result in libpq, then in Swift, then in Lua). Statements that cannot be a cursor
/// (`SHOW`, `EXPLAIN`, …) run plainly.
enum BoundedQuery {
    /// Rows per `FETCH`.
    static let batch = 500

    /// Runs `sql` inside the caller's open transaction on `connection`, reading at most `limit` bytes of
    /// values (0 = unbounded). Returns the rows, or `nil` once the limit is passed (the caller fails the call
    /// with `overflowMessage` and rolls back). Throws `PostgresError` for the query's own errors.
    static func rows(_ connection: Connection, _ sql: String, _ parameters: [String?], limit: Int) throws(PostgresError) -> [Row]? {
        let statement = String(sql.reversed().drop { $0 == ";" || $0.isWhitespace }.reversed())
        try connection.query("SAVEPOINT keel_query")
        do {
            try connection.query("DECLARE keel_query NO SCROLL CURSOR FOR " + statement, parameters)
        } catch {
            guard error.sqlState == "42601" || error.sqlState == "0A000" else { throw error }
            try connection.query("ROLLBACK TO SAVEPOINT keel_query")
            return try connection.query(sql, parameters)
        }
        var rows: [Row] = []
        var bytes = 0
        while true {
            let fetched = try connection.query("FETCH FORWARD \(batch) FROM keel_query")
            for row in fetched { bytes += row.values.reduce(0) { $0 + size($1) } }
            if limit > 0, bytes > limit { return nil }
            rows += fetched
            if fetched.count < batch { break }
        }
        try connection.query("CLOSE keel_query")
        return rows
    }

    /// The error of a call whose result passed `limit` bytes.
    static func overflowMessage(limit: Int) -> String {
        "the result of keel.query exceeds lua_memory_limit (\(limit >> 20) MB): select fewer rows (LIMIT) or smaller columns"
    }

    private static func size(_ value: PostgresValue) -> Int {
        if case .text(let text) = value { return text.utf8.count + 16 }
        return 16
    }
}
