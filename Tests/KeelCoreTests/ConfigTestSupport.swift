import Foundation
import Testing

@testable import KeelCore

/// Helpers shared by the configuration tests.
enum ConfigFixtures {
    /// The repository's `Tests/Fixtures`, found from this file's location.
    static var directory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // KeelCoreTests
            .deletingLastPathComponent()  // Tests
            .appendingPathComponent("Fixtures")
    }

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The fixture's text; a missing fixture is an error that names the file.
    static func text(_ name: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path(name)) else { throw MissingFixture(path: path(name)) }
        return try String(contentsOfFile: path(name), encoding: .utf8)
    }

    /// A fixture file that is not where the tests expect it.
    struct MissingFixture: Error, CustomStringConvertible {
        let path: String
        var description: String { "test fixture missing: \(path)" }
    }

    /// A file name that does not exist, so that no permission check or include finds anything.
    static let virtualFile = "/nonexistent-keel-config-test/keel.conf"

    /// The four required keys, lines 1–4.
    static let required = """
        node_id=1
        node_name='node1'
        conninfo='host=127.0.0.1 user=repmgr dbname=repmgr connect_timeout=2'
        data_directory='/var/lib/postgresql/15/main'

        """

    /// Parses `text` (after the required keys when `withRequired`), expecting success.
    static func parse(_ text: String, withRequired: Bool = true, file: String = virtualFile) throws -> KeelConfig {
        try KeelConfig.parse(text: (withRequired ? required : "") + text, file: file)
    }

    /// Parses `text`, expecting a `ConfigError`; `nil` if it loaded.
    static func failure(_ text: String, withRequired: Bool = true, file: String = virtualFile) -> ConfigError? {
        do {
            _ = try KeelConfig.parse(text: (withRequired ? required : "") + text, file: file)
            return nil
        } catch {
            return error
        }
    }
}

/// A fresh temporary directory, removed by `remove()`.
struct ConfigTempDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "keel-config-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `text` to `name` (relative; parent directories created) with `mode`; returns the path.
    @discardableResult
    func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
        return file
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
