#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KeelCore
import Logging

/// `DaemonFacts` in a file (`keeld.facts` in the data directory): mode 0600, written to a temporary file,
/// flushed to disk and renamed over the old one, so that a crash leaves either the old or the new facts.
final class FactsFile: FactsStore {
    let path: String
    private let logger: Logger

    /// The facts file of the data directory `dataDirectory`.
    init(dataDirectory: String, logger: Logger) {
        path = dataDirectory + "/keeld.facts"
        self.logger = logger
    }

    func load() -> DaemonFacts? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try DaemonFacts.decode(data, path: path)
        } catch let error as KeelError {
            logger.error("\(error.message)", metadata: ["detail": "\(error.detail ?? "")"])
            return nil
        } catch {
            return nil
        }
    }

    @discardableResult
    func save(_ facts: DaemonFacts) -> Bool {
        if facts.isEmpty {
            if unlink(path) != 0 && errno != ENOENT {
                logger.error("unable to remove keeld's facts file \"\(path)\": \(String(cString: strerror(errno)))")
                return false
            }
            return true
        }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else {
            logger.error("unable to write keeld's facts file \"\(temporary)\": \(String(cString: strerror(errno)))")
            return false
        }
        let bytes = [UInt8](facts.encoded())
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            logger.error("unable to write keeld's facts file \"\(path)\": \(String(cString: strerror(errno)))")
            unlink(temporary)
            return false
        }
        return true
    }
}
