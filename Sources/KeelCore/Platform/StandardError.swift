#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// Writes all of `text` to the open file descriptor `fd`, retrying short and interrupted writes; false
/// when a write fails.
@discardableResult
public func writeAll(fd: Int32, _ text: String) -> Bool {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if written > 0 {
            offset += written
        } else if written < 0 && errno == EINTR {
            continue
        } else {
            return false
        }
    }
    return true
}

/// Writes `text` to standard error as it is (no newline added); errors are ignored, as
/// `FileHandle.standardError.write` did not report them either.
public func writeStandardError(_ text: String) {
    writeAll(fd: 2, text)
}

/// Appends `text` to the existing file at `path`; false when it cannot be opened for writing or written.
public func appendToFile(_ path: String, _ text: String) -> Bool {
    let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return writeAll(fd: fd, text)
}
