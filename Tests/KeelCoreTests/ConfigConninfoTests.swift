import Testing

@testable import KeelCore

@Suite("conninfo syntax and password masking")
struct ConfigConninfoTests {
    @Test("keyword/value pairs as libpq parses them")
    func parsePairs() throws {
        let pairs = try ConninfoSyntax.parse(#"host=db1  port = 5432 user='rep mgr' options='-c a=\'b\'' dbname=a\ b"#)
        #expect(pairs == [
            .init(keyword: "host", value: "db1"),
            .init(keyword: "port", value: "5432"),
            .init(keyword: "user", value: "rep mgr"),
            .init(keyword: "options", value: "-c a='b'"),
            .init(keyword: "dbname", value: "a b"),
        ])
        #expect(try ConninfoSyntax.parse("").isEmpty)
        #expect(try ConninfoSyntax.parse("host=") == [.init(keyword: "host", value: "")])
        #expect(ConninfoSyntax.value(of: "user", in: "host=a user=x user=y") == "y")
    }

    @Test("syntax errors, in libpq's words",
          arguments: [
              ("host", "missing \"=\" after \"host\" in connection info string"),
              ("host=a port", "missing \"=\" after \"port\" in connection info string"),
              ("host='a", "unterminated quoted string in connection info string"),
              ("hots=a", "invalid connection option \"hots\""),
              ("postgresql://h/db?foo=1", "invalid URI query parameter: \"foo\""),
              ("postgresql://h/db?sslmode", "missing key/value separator \"=\" in URI query parameter"),
              ("postgresql://u%zz@h/db", "invalid percent-encoded token in URI"),
          ])
    func syntaxErrors(_ conninfo: String, _ message: String) {
        #expect(throws: ConninfoSyntax.SyntaxError(message: message)) { try ConninfoSyntax.parse(conninfo) }
    }

    @Test("URIs")
    func uris() throws {
        let pairs = try ConninfoSyntax.parse("postgresql://repmgr:pa%20ss@db1:5433/repmgr?connect_timeout=2")
        #expect(pairs.map(\.keyword) == ["user", "password", "host", "port", "dbname", "connect_timeout"])
        #expect(pairs[1].value == "pa ss")
        #expect(pairs[2].value == "db1")
        #expect(pairs[3].value == "5433")
        let v6 = try ConninfoSyntax.parse("postgresql://[::1]:5434/x")
        #expect(v6.map(\.value) == ["::1", "5434", "x"])
        #expect(ConninfoSyntax.containsPassword("postgres://u:x@h/d"))
        #expect(!ConninfoSyntax.containsPassword("postgres://u@h/d"))
    }

    @Test("masking keeps everything but the secret",
          arguments: [
              ("host=a password=secret user=b", "host=a password=... user=b"),
              ("host=a password = 'sec ret' user=b", "host=a password = ... user=b"),
              ("host=a sslpassword=secret", "host=a sslpassword=..."),
              ("host=a user=b", "host=a user=b"),
              ("postgresql://u:secret@h:5432/d", "postgresql://u:...@h:5432/d"),
              ("postgresql://u@h/d?password=secret&sslmode=require", "postgresql://u@h/d?password=...&sslmode=require"),
              // does not parse: the pattern-based fallback still masks
              ("host=a password=secret port", "host=a password=... port"),
              ("PASSWORD=secret bogus", "PASSWORD=... bogus"),
          ])
    func masking(_ conninfo: String, _ expected: String) {
        #expect(ConninfoSyntax.masked(conninfo) == expected)
        #expect(!ConninfoSyntax.masked(conninfo).contains("secret") && !ConninfoSyntax.masked(conninfo).contains("sec ret"))
    }

    @Test("free-text redaction used by every diagnostic")
    func redaction() {
        #expect(ConninfoSyntax.redactingPasswords(in: "invalid (provided: \"host=a password=xyz port\")")
                == "invalid (provided: \"host=a password=... port\")")
        #expect(ConninfoSyntax.redactingPasswords(in: "x password='a b\\' c' y") == "x password=... y")
        #expect(ConninfoSyntax.redactingPasswords(in: "already password=... masked") == "already password=... masked")
        #expect(ConninfoSyntax.redactingPasswords(in: "no secrets here: password is required")
                == "no secrets here: password is required")
        #expect(ConninfoSyntax.redactingPasswords(in: "uri postgres://me:pw@host/db end") == "uri postgres://me:...@host/db end")
        let diagnostic = ConfigDiagnostic(.error, file: "/f", line: 1, key: "k", message: "value password=hunter2")
        #expect(diagnostic.message == "value password=...")
    }
}
