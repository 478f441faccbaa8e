import Foundation
import Testing
import KeelCore
import KeelTesting
@testable import KeelOps

/// Property tests with random inputs (seeded, bounded in time): for random templates and values, the
/// argument vector `/bin/sh` builds from the expanded command equals the one intended; for random `keel`
/// arguments, the ssh command line read by a local shell and then by the remote shell gives back exactly
/// those arguments. Set `KEEL_FUZZ_SEED` to replay a run, `KEEL_FUZZ_SECONDS` to run longer.
@Suite("shell quoting: random templates and values through /bin/sh")
struct ShellQuotingPropertyTests {
    static let seed = UInt64(ProcessInfo.processInfo.environment["KEEL_FUZZ_SEED"] ?? "") ?? 0x6b65656c
    static let seconds = Double(ProcessInfo.processInfo.environment["KEEL_FUZZ_SECONDS"] ?? "") ?? 4
    static let letters: [Character] = ["n", "a", "d", "e"]

    @Test("placeholder expansion: /bin/sh's argv equals the intended one")
    func placeholders() throws {
        var rng = SplitMix(seed: Self.seed)
        let deadline = Date().addingTimeInterval(Self.seconds)
        var cases = 0
        while Date() < deadline || cases < 20 {
            var values: [Character: String] = [:]
            for letter in Self.letters { values[letter] = rng.hostileString() }
            let (template, intended) = TemplateGenerator(values: values).make(&rng)
            let expanded = Placeholders.expand(template, values)
            let argv = try Self.argv(of: "set -- " + expanded + "\nprintf '%s\\0' \"$@\"")
            #expect(argv == intended.map { Array($0.utf8) },
                    "seed \(Self.seed), case \(cases): template \(template.debugDescription), expanded \(expanded.debugDescription)")
            if argv != intended.map({ Array($0.utf8) }) { return }
            cases += 1
        }
    }

    @Test("a placeholder inside a parameter expansion ${…} (where dash and bash read quotes differently) never runs the value",
          arguments: ["\"${X:-\"%a\"}\"", "\"${X:-${Y:-\"%a\"}}\"", "${X:-%a}", "\"${X:-'%a'}\"", "${X:-\"%a\"}"])
    func parameterExpansion(_ template: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keel-brace-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let value = "p$(touch \(dir)/PWN)`touch \(dir)/PWN2`'\"; x"
        let argv = try Self.argv(of: "set -- " + Placeholders.expand(template, ["a": value]) + "\nprintf '%s\\0' \"$@\"")
        #expect(!FileManager.default.fileExists(atPath: dir + "/PWN") && !FileManager.default.fileExists(atPath: dir + "/PWN2"))
        let reduced = String(value.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "_.,:@+=/-".unicodeScalars.contains(scalar)) ? Character(scalar) : "_"
        })
        #expect(argv.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ").contains(reduced), "\(argv)")
        #expect(Placeholders.secondLevelWarning(template, letters: ["a"]) != nil, "a reduced placeholder is warned about")
        #expect(Placeholders.secondLevelWarning("${HOME}/bin/notify %a", letters: ["a"]) == nil)
    }

    @Test("remote commands: ssh's words read by the local shell, then the remote shell, give back keel's arguments")
    func remoteQuoting() throws {
        var rng = SplitMix(seed: Self.seed ^ 0x55)
        let deadline = Date().addingTimeInterval(Self.seconds)
        var cases = 0
        while Date() < deadline || cases < 20 {
            let configFile = "/etc/" + rng.hostileString().scalarsReplacing("\u{0}", with: "")
            let arguments = (0..<rng.below(4)).map { _ in rng.hostileString().scalarsReplacing("\u{0}", with: "") }
                .filter { $0 != "-d" && $0 != "--dbname" && !$0.hasPrefix("--dbname=") }
            let node = NodeRecord(nodeID: 1, upstreamNodeID: nil, active: true, nodeName: "n1", type: .primary,
                                  conninfo: "host=-oProxyCommand=x port=5432", replicationUser: "repmgr", configFile: configFile)
            let config = try KeelConfig.parse(text: "node_id=2\nnode_name=n2\nconninfo='host=db2'\ndata_directory='/d'\nrepmgr_bindir='/opt/k e;y'",
                                              file: "/etc/keel.conf")
            let remote = RemoteCommand(node: node, config: config, isLocal: { _ in false })
            let local = try Self.argv(of: "set -- " + remote.display(arguments) + "\nprintf '%s\\0' \"$@\"")
            let words = local.map { String(decoding: $0, as: UTF8.self) }
            #expect(Array(words.suffix(3).dropLast()) == ["--", "-oProxyCommand=x"])
            let remoteWords = try Self.argv(of: "set -- " + (words.last ?? "") + "\nprintf '%s\\0' \"$@\"")
            let intended = ["/opt/k e;y/keel", "-f", configFile] + arguments
            #expect(remoteWords == intended.map { Array($0.utf8) }, "seed \(Self.seed), case \(cases): \(remote.display(arguments).debugDescription)")
            if remoteWords != intended.map({ Array($0.utf8) }) { return }
            cases += 1
        }
    }

    /// The NUL-separated words `script` prints when run with `/bin/sh -c`.
    static func argv(of script: String) throws -> [[UInt8]] {
        let data = Array(try ChildLauncher.run("/bin/sh", ["-c", script], timeout: 30).stdout.utf8)
        var words = data.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
        if words.last == [] { words.removeLast() }
        return words
    }
}

/// Random templates built from shell fragments whose meaning is known: plain text, `%%`, a lone `%`
/// before a non-placeholder character, backslash escapes, single- and double-quoted text (with `%` before
/// the closing quote), placeholders bare and in quotes, `"$(printf …)"`, and a trailing comment holding
/// placeholders. `make` returns the template and the words the shell must see.
struct TemplateGenerator {
    let values: [Character: String]

    func value(_ letter: Character) -> String { values[letter]!.scalarsReplacing("\u{0}", with: "") }

    func make(_ rng: inout SplitMix) -> (String, [String]) {
        var template = ""
        var words: [String] = []
        for index in 0..<(1 + rng.below(4)) {
            var word = ""
            if index > 0 { template += [" ", "  ", "\t"][rng.below(3)] }
            for _ in 0..<(1 + rng.below(4)) {
                let (text, meaning) = segment(&rng)
                template += text
                word += meaning
            }
            words.append(word)
        }
        if rng.below(4) == 0 { template += " # comment %\(ShellQuotingPropertyTests.letters[rng.below(4)]) 'x \"y" }
        return (template, words)
    }

    private func segment(_ rng: inout SplitMix) -> (String, String) {
        let letter = ShellQuotingPropertyTests.letters[rng.below(ShellQuotingPropertyTests.letters.count)]
        switch rng.below(9) {
        case 0: let t = rng.plainWord(); return (t, t)
        case 1: return ("%%", "%")
        case 2: let c = ["-", "9", "x", ".", "="][rng.below(5)]; return ("%" + c, "%" + c)
        case 3: return ("%\(letter)", value(letter))
        case 4: let c = rng.hostileScalar(excludingNUL: true, excludingNewline: true); return ("\\" + c, c)
        case 5:
            let raw = rng.hostileString().scalarsReplacing("'", with: "")
            let text = raw.scalarsReplacing("%", with: "%%")
            let literal = raw.scalarsReplacing("\u{0}", with: "")
            return rng.below(2) == 0 ? ("'" + text + "%'", literal + "%") : ("'" + text + "%\(letter)'", literal + value(letter))
        case 6:
            let text = rng.hostileString().scalarsReplacing("\u{0}", with: "")
            var escaped = ""
            for c in text.unicodeScalars {
                if "\\\"$`".unicodeScalars.contains(c) { escaped += "\\" }
                escaped += c == "%" ? "%%" : String(c)
            }
            return ("\"" + escaped + " %\(letter)%\"", text + " " + value(letter) + "%")
        case 7: return ("\"$(printf '%%s.' %\(letter))\"", value(letter) + ".")
        default: return ("'%'\"%\"%\(letter)", "%%" + value(letter))
        }
    }
}

/// A small seeded generator (SplitMix64) and the hostile strings the properties draw from.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    static let hostile: [String] = ["'", "\"", "\\", "$", "`", ";", " ", "\n", "\t", "%", "-", "*", "?", "~", "#", "(", ")",
                                    "{", "}", "|", "&", "<", ">", "!", "=", "\u{0}", "a", "Z", "0", "\u{301}", "\u{FFFD}",
                                    "é", "🙂", "$(", "${HOME}", "'\u{301}", ";\u{301}", "--", "\r", "[", "]", "^",
                                    "\u{0D4E}", "\u{0D4E};", "\u{111C2}'", "\u{0600}"]

    mutating func hostileScalar(excludingNUL: Bool, excludingNewline: Bool) -> String {
        while true {
            let s = Self.hostile[below(Self.hostile.count)]
            if s.unicodeScalars.count != 1 || s.unicodeScalars.first!.properties.generalCategory == .format || (excludingNUL && s == "\u{0}") || (excludingNewline && s == "\n") { continue }
            return s
        }
    }

    mutating func hostileString() -> String {
        (0..<below(8)).map { _ in Self.hostile[below(Self.hostile.count)] }.joined()
    }

    mutating func plainWord() -> String {
        let plain = Array("abcXYZ019_.,:@+=/")
        return String((0..<(1 + below(5))).map { _ in plain[below(plain.count)] })
    }
}

extension String {
    /// The string with every Unicode scalar `scalar` replaced by `replacement` (never judged per grapheme).
    func scalarsReplacing(_ scalar: Unicode.Scalar, with replacement: String) -> String {
        var out = String.UnicodeScalarView()
        for c in unicodeScalars {
            if c == scalar { out.append(contentsOf: replacement.unicodeScalars) } else { out.append(c) }
        }
        return String(out)
    }
}
