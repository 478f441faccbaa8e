import Testing
@testable import KeelCore

@Suite("Placeholders: repmgr's %-expansion, quoted for the shell")
struct PlaceholderTests {
    let values: [Character: String] = ["n": "2", "e": "standby_register", "s": "1", "t": "2026-11-30 10:00:00+00",
                                        "d": "it's \"quoted\" $HOME `id`", "a": "node1"]

    @Test("bare placeholders become single-quoted words", arguments: [
        ("notify %n %e", "notify '2' 'standby_register'"),
        ("notify %d", #"notify 'it'\''s "quoted" $HOME `id`'"#),
        ("100%% %s", "100% '1'"),
        ("keep %x and %", "keep %x and %"),
    ])
    func bare(template: String, expected: String) {
        #expect(Placeholders.expand(template, values) == expected)
    }

    @Test("inside double quotes, values are escaped for double quotes (repmgr's documented \"%d\" form)")
    func doubleQuoted() {
        #expect(Placeholders.expand(#"log "%t" "%d""#, values) == #"log "2026-11-30 10:00:00+00" "it's \"quoted\" \$HOME \`id\`""#)
    }

    @Test("inside single quotes, a quote in the value closes and reopens the quote")
    func singleQuoted() {
        #expect(Placeholders.expand("echo '%d'", ["d": "a'b"]) == #"echo 'a'\''b'"#)
    }

    @Test("an unknown placeholder letter is left as it is")
    func unknown() {
        #expect(Placeholders.expand("x %q %n", ["n": "1"]) == "x %q '1'")
    }

    @Test("a % before a quote is a literal %, and the quote still opens or closes", arguments: [
        ("echo 'cpu at 100%' %a", "echo 'cpu at 100%' 'n1;touch /tmp/x'"),
        (#"echo "100%" %a"#, #"echo "100%" 'n1;touch /tmp/x'"#),
        ("echo 100%'x' %a", "echo 100%'x' 'n1;touch /tmp/x'"),
        ("echo %", "echo %"),
    ])
    func percentBeforeQuote(template: String, expected: String) {
        #expect(Placeholders.expand(template, ["a": "n1;touch /tmp/x"]) == expected)
    }

    @Test("quotes are judged per Unicode scalar: a combining mark after a quote does not hide it")
    func combiningMark() {
        #expect(Placeholders.expand("echo '\u{301}' %a", ["a": "x;y"]) == "echo '\u{301}' 'x;y'")
        #expect(Placeholders.quoteIfNeeded("e\u{301};touch") == "'e\u{301};touch'")
        #expect(Placeholders.quoteIfNeeded("node-1.conf") == "node-1.conf")
    }

    @Test("command substitution, comments, backquotes and NUL")
    func contexts() {
        let v: [Character: String] = ["a": "x\"; touch m; \"`id`\n"]
        #expect(Placeholders.expand(#"log "$(echo %a)""#, v) == #"log "$(echo 'x"; touch m; "`id`\#(("\n"))')""#)
        #expect(Placeholders.expand("log x # note %a\nnext %a", v).hasPrefix("log x # note %a\nnext 'x"))
        #expect(Placeholders.expand("log `echo %a`", v) == "log `echo x___touch_m____id__`")
        #expect(Placeholders.expand("log %a", ["a": "a\u{0}b"]) == "log 'ab'")
        #expect(Placeholders.expand("cat <<EOF\n%a\nEOF", ["a": "$(id)"]) == "cat <<EOF\n__id_\nEOF")
    }

    @Test("templates that hand values to a second shell level are named", arguments: [
        (#"ssh db1 "notify %d""#, "ssh"),
        (#"/bin/sh -c "echo %a""#, "sh -c"),
        ("bash -ec 'x %a'", "bash -ec"),
        ("eval echo %a", "eval"),
    ])
    func secondLevel(template: String, word: String) throws {
        let warning = try #require(Placeholders.secondLevelWarning(template, letters: ["a", "d"]))
        #expect(warning.contains("\"\(word)\""))
    }

    @Test("the configuration warns about a second-shell hook template, naming the key and its line")
    func configurationWarning() throws {
        let config = try KeelConfig.parse(text: """
            node_id=1
            node_name='n1'
            conninfo='host=db1'
            data_directory='/d'
            event_notification_command='ssh db9 "notify %d"'
            follow_command='/usr/local/bin/follow %n'
            """, file: "/etc/keel.conf")
        let warnings = config.warnings.map(\.description)
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("/etc/keel.conf:5") == true, "\(warnings)")
        #expect(warnings.first?.contains("event_notification_command") == true, "\(warnings)")
        #expect(warnings.first?.contains("second shell level (\"ssh\")") == true, "\(warnings)")
    }

    @Test("ordinary templates, and templates without placeholders, get no warning")
    func noWarning() {
        #expect(Placeholders.secondLevelWarning("/usr/local/bin/notify %n %e \"%d\"", letters: ["n", "e", "d"]) == nil)
        #expect(Placeholders.secondLevelWarning("ssh db1 restart", letters: ["n"]) == nil)
        #expect(Placeholders.secondLevelWarning("echo `date` %n", letters: ["n"]) != nil)
    }
}

@Suite("Conninfo: parse, mask, rewrite")
struct ConninfoTests {
    @Test func parsesQuotedValues() throws {
        let pairs = try #require(Conninfo.parse("host=a port = 5432 password='se cr\\'et' dbname=repmgr"))
        #expect(pairs.map(\.key) == ["host", "port", "password", "dbname"])
        #expect(pairs[2].value == "se cr'et")
    }

    @Test func rejectsMalformed() {
        #expect(Conninfo.parse("host=a user") == nil)
        #expect(Conninfo.parse("host='unterminated") == nil)
    }

    @Test("passwords never survive masking", arguments: [
        "host=a password=secret user=b",
        "host=a password='se cret' user=b",
        "postgresql://u:secret@host/db",
        "host=a password=secret user",
    ])
    func masks(conninfo: String) {
        let masked = Conninfo.masked(conninfo)
        #expect(!masked.contains("secret"))
        #expect(!masked.contains("se cret"))
    }

    @Test func settingReplacesOrAppends() {
        #expect(Conninfo.setting("user", to: "repl", in: "host=a user=b") == "host=a user=repl")
        #expect(Conninfo.setting("application_name", to: "node 2", in: "host=a") == "host=a application_name='node 2'")
        #expect(Conninfo.removing(["dbname"], from: "host=a dbname=x port=1") == "host=a port=1")
    }
}

@Suite("LSN")
struct LSNTests {
    @Test func roundTrips() throws {
        let lsn = try #require(LSN("16/B374D848"))
        #expect(lsn.value == 0x16_B374_D848)
        #expect(lsn.description == "16/B374D848")
        #expect(LSN("0/0") == .zero)
        #expect(LSN("nonsense") == nil)
        #expect(LSN("1/0")! > LSN("0/FFFFFFFF")!)
        #expect(LSN("0/100")!.bytes(after: LSN("0/40")!) == 0xC0)
        #expect(LSN("0/40")!.bytes(after: LSN("0/100")!) == 0)
    }
}

@Suite("Exit statuses keep repmgr's numbers")
struct ExitStatusTests {
    @Test func numbers() {
        #expect(ExitStatus.badConfig.rawValue == 1)
        #expect(ExitStatus.dbConnection.rawValue == 6)
        #expect(ExitStatus.promotionFailed.rawValue == 8)
        #expect(ExitStatus.switchoverFailed.rawValue == 18)
        #expect(ExitStatus.followFailed.rawValue == 23)
        #expect(ExitStatus.nodeStatus.rawValue == 25)
        #expect(ExitStatus.daemonService.rawValue == 27)
        #expect(ExitStatus.allCases.count == 28)
    }
}
