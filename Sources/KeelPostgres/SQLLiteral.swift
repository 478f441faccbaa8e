/// SQL text for statements that take no parameters (`ALTER SYSTEM`, `SET`).
public enum SQLLiteral {
    /// `value` as a SQL string literal: single quotes doubled, the whole quoted (standard_conforming_strings,
    /// on by default since PostgreSQL 9.1, so a backslash is an ordinary character).
    public static func string(_ value: String) -> String {
        "'" + value.replacing("'", with: "''") + "'"
    }
}
