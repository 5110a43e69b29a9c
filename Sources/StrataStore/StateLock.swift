import Foundation

/// An exclusive lock on a state directory (`STATE/lock`), so that two runs never work on the same
/// state at once. The file holds the owner's PID and host; a lock left by a dead process on this host
/// is taken over (and reported), one held by a live process — or by another host — is refused.
public final class StateLock {
    /// Why the lock could not be taken.
    public struct Held: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let owner: String
        public var description: String {
            "another strata run holds \(path) (\(owner)); wait for it to finish, or remove the file if that process is gone"
        }
    }

    public let path: String
    /// Set when a stale lock (dead PID on this host) was taken over.
    public private(set) var tookOverFrom: String?
    /// Whether this instance created the lock file (a refused attempt must never remove the holder's:
    /// a class whose init throws after initialising its properties still runs deinit).
    private var owned = false
    private var released = false

    /// Takes the lock or throws ``Held``.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = (directory as NSString).appendingPathComponent("lock")
        let host = ProcessInfo.processInfo.hostName
        let me = "pid \(getpid()) on \(host), since \(ISO8601DateFormatter().string(from: Date()))"
        for _ in 0..<3 {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if fd >= 0 {
                owned = true
                _ = me.withCString { write(fd, $0, strlen($0)) }
                fsync(fd)
                close(fd)
                return
            }
            guard errno == EEXIST else {
                throw Held(path: path, owner: "cannot create the lock file: \(String(cString: strerror(errno)))")
            }
            let owner = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            let parts = owner.split(separator: " ")
            let parsed = parts.count >= 4 && parts[0] == "pid" && Int32(parts[1]) != nil
            if parsed, let pid = Int32(parts[1]), parts[3].trimmingCharacters(in: CharacterSet(charactersIn: ",")) == host,
               kill(pid, 0) != 0 && errno == ESRCH {
                // Stale: its process is gone. Remove and retry the exclusive create.
                tookOverFrom = owner
                unlink(path)
                continue
            }
            // Empty or unreadable (a crash between creating and writing it, or a stray file): a lock
            // writer finishes within milliseconds, so one older than `garbageAge` is nobody's.
            if !parsed, let age = Self.age(path), age > Self.garbageAge {
                tookOverFrom = owner.isEmpty ? "an empty lock file" : "an unreadable lock file (\(owner.prefix(40)))"
                unlink(path)
                continue
            }
            throw Held(path: path, owner: owner.isEmpty ? "unknown owner" : owner)
        }
        throw Held(path: path, owner: "the lock file keeps reappearing")
    }

    /// Seconds after which a lock file that names no owner is taken over.
    public static let garbageAge: TimeInterval = 10

    static func age(_ path: String) -> TimeInterval? {
        guard let m = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return nil }
        return Date().timeIntervalSince(m)
    }

    /// Releases the lock (also done on deinit).
    public func release() {
        guard owned, !released else { return }
        released = true
        unlink(path)
    }

    deinit { release() }
}
