import Foundation

/// Finds the directory holding the built `keel` and `keeld` binaries.
enum PackageLocator {
    /// The package root: the nearest folder above `file` that holds a `Package.swift`.
    static func packageRoot(from file: String = #filePath) -> String? {
        var directory = (file as NSString).deletingLastPathComponent
        while !directory.isEmpty && directory != "/" {
            if FileManager.default.fileExists(atPath: directory + "/Package.swift") { return directory }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return nil
    }

    /// `KEEL_BIN_DIR` when set, else `<package root>/.build/debug`.
    static func keelBinaryDirectory() throws -> String {
        if let configured = ProcessInfo.processInfo.environment["KEEL_BIN_DIR"], !configured.isEmpty {
            return configured
        }
        guard let root = packageRoot() else {
            throw HarnessError.setupFailed("cannot find Package.swift above \(#filePath); set KEEL_BIN_DIR")
        }
        return root + "/.build/debug"
    }
}
