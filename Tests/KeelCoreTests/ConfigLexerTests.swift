import Testing

@testable import KeelCore

@Suite("repmgr.conf lexer (PostgreSQL guc-file.l)")
struct ConfigLexerTests {
    struct StringCase: CustomTestStringConvertible, Sendable {
        var line: String
        var expected: String
        var testDescription: String { line }
    }

    /// One line setting `location` (a plain string key) and the value it must yield.
    static let stringCases: [StringCase] = [
        .init(line: "location value", expected: "value"),
        .init(line: "location=value", expected: "value"),
        .init(line: "location = value", expected: "value"),
        .init(line: "  location\t=\tvalue  ", expected: "value"),
        .init(line: "location = 'a''b'", expected: "a'b"),
        .init(line: #"location = 'a\'b'"#, expected: "a'b"),
        .init(line: #"location = 'a\nb'"#, expected: "a\nb"),
        .init(line: #"location = 'tab\there'"#, expected: "tab\there"),
        .init(line: #"location = '\b\f\r'"#, expected: "\u{8}\u{C}\r"),
        .init(line: #"location = '\101\102C'"#, expected: "ABC"),
        .init(line: #"location = '\0101'"#, expected: "\u{8}1"),
        .init(line: #"location = '\q\\'"#, expected: #"q\"#),
        .init(line: "location='dc1'   # trailing comment", expected: "dc1"),
        .init(line: "location=dc1# comment right after", expected: "dc1"),
        .init(line: "location = 'with # hash'", expected: "with # hash"),
        .init(line: "location = eu-west-1.a:b/c", expected: "eu-west-1.a:b/c"),
        .init(line: "location = 10s", expected: "10s"),
        .init(line: "location = 0x1F", expected: "0x1F"),
        .init(line: "location = -1.5e3", expected: "-1.5e3"),
        .init(line: "location = ''", expected: ""),
        .init(line: "location = 'Zürich'", expected: "Zürich"),
        .init(line: "location = Zürich", expected: "Zürich"),
        .init(line: "location = 'host=a user=b'", expected: "host=a user=b"),
    ]

    @Test("string values", arguments: stringCases)
    func stringValue(_ c: StringCase) throws {
        let config = try ConfigFixtures.parse(c.line + "\n")
        #expect(config.location == c.expected)
        #expect(config.isSet("location"))
    }

    @Test("integer values: decimal or 0x hex, optional sign, blanks around",
          arguments: [
              ("priority=10", 10), ("priority=0x1F", 31), ("priority=+7", 7), ("priority='42'", 42),
              ("priority=0010", 10), ("priority = ' 12 '", 12), ("priority 0", 0),
          ])
    func integerValue(_ line: String, _ expected: Int) throws {
        let config = try ConfigFixtures.parse(line + "\n")
        #expect(config.priority == expected)
    }

    @Test("trailing text after an integer is an error naming file, line and key (not read like strtol)",
          arguments: ["priority = 10s", "priority = 1.5", "priority = '12 apples'", "priority='0x'", "priority='-'"])
    func integerTrailingText(_ line: String) throws {
        let error = try #require(ConfigFixtures.failure("# line 5\n" + line + "\n"))
        let diagnostic = try #require(error.errors.first)
        #expect(diagnostic.file == ConfigFixtures.virtualFile)
        #expect(diagnostic.line == 6)
        #expect(diagnostic.key == "priority")
        #expect(diagnostic.message.contains("expected an integer"))
    }

    @Test("booleans: exactly on/off/true/false/yes/no/1/0, any case",
          arguments: [
              ("on", true), ("off", false), ("true", true), ("false", false), ("yes", true), ("no", false),
              ("1", true), ("0", false), ("ON", true), ("Yes", true), ("FALSE", false), ("'true'", true),
          ])
    func booleanValue(_ text: String, _ expected: Bool) throws {
        let config = try ConfigFixtures.parse("use_replication_slots=\(text)\n")
        #expect(config.useReplicationSlots == expected)
    }

    @Test("no prefixes or other words are booleans",
          arguments: ["y", "t", "of", "tru", "2", "'on '", "enabled", "'1.0'"])
    func badBoolean(_ text: String) throws {
        let error = try #require(ConfigFixtures.failure("use_replication_slots=\(text)\n"))
        #expect(error.errors.count == 1)
        #expect(error.errors.first?.key == "use_replication_slots")
        #expect(error.errors.first?.line == 5)
        #expect(error.errors.first?.message.contains("expected a boolean") == true)
    }

    @Test("token kinds follow flex's longest match")
    func tokenKinds() {
        func kinds(_ text: String) -> [ConfigToken.Kind] {
            var lexer = ConfigLexer(text)
            var result: [ConfigToken.Kind] = []
            while true {
                let token = lexer.next()
                if token.kind == .endOfFile { return result }
                result.append(token.kind)
            }
        }
        #expect(kinds("a.b = 'x'\n") == [.qualifiedID, .equals, .quotedString, .endOfLine])
        #expect(kinds("name value") == [.identifier, .identifier])
        #expect(kinds("k a.b.c") == [.identifier, .unquotedString])
        #expect(kinds("k -5 +0x1fMB 1.5 .5 1e5") == [.identifier, .integer, .integer, .real, .real, .integer, .integer])
        #expect(kinds("k /path") == [.identifier, .error, .identifier])
        #expect(kinds("k /a/b.c") == [.identifier, .error, .unquotedString])
        #expect(kinds("k 'open") == [.identifier, .error, .identifier])
        #expect(kinds("# only a comment\n\n") == [.endOfLine, .endOfLine])
        #expect(kinds("k 'a''b' 'c'") == [.identifier, .quotedString, .quotedString])
    }

    @Test("line numbers count newlines, CRLF and a missing final newline included")
    func lineNumbers() throws {
        let config = try ConfigFixtures.parse("# comment\r\n\r\npriority = 7\r\nlocation = 'x'")
        #expect(config.priority == 7)
        #expect(config.location(of: "priority")?.line == 7)
        #expect(config.location(of: "location")?.line == 8)
    }
}
