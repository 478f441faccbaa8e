#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One loaded hook file: its environment (the script's globals) and the value its main chunk returned,
/// both held in the VM's registry.
struct LuaScript {
    /// The file.
    var path: String
    /// Registry reference of the script's environment table.
    var environmentRef: Int32
    /// Registry reference of the main chunk's first return value (`nil` when it returned nothing).
    var valueRef: Int32

    /// The file's bytes. Throws `LuaError` (`.load`, `.file`) naming the path and the reason.
    static func read(_ path: String) throws(LuaError) -> [UInt8] {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory else {
            throw LuaError(stage: .load, kind: .file, file: path, message: "cannot read \(path): no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LuaError(stage: .load, kind: .file, file: path, message: "cannot read \(path): permission denied")
        }
        return [UInt8](data)
    }
}
