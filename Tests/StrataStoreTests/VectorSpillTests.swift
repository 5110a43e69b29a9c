import Foundation
import Testing
@testable import StrataStore

@Suite("vector spill: the streamed fit's temporary vectors")
struct VectorSpillTests {
    func directory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-spill-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("rows come back as written, in slices and gathered in any order; the file never has a name")
    func roundTrip() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = 5
        let spill = try VectorSpill(directory: dir, dimension: d)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        let values = (0..<(37 * d)).map { Float($0) * 0.5 - 3 }
        try values[0..<(10 * d)].withUnsafeBufferPointer { try spill.append($0) }
        try values[(10 * d)...].withUnsafeBufferPointer { try spill.append($0) }
        #expect(spill.rows == 37 && spill.byteCount == 37 * d * 4)
        var out = [Float](repeating: 0, count: 20 * d)
        try out.withUnsafeMutableBufferPointer { try spill.read(5..<25, into: $0) }
        #expect(out == Array(values[(5 * d)..<(25 * d)]))
        let picked = [36, 0, 7, 7]
        #expect(try spill.gather(picked) == picked.flatMap { values[($0 * d)..<(($0 + 1) * d)] })
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test("a directory that cannot hold the file is a clear error naming it")
    func unwritable() throws {
        let missing = "/nonexistent-\(UUID().uuidString)"
        #expect { try VectorSpill(directory: missing, dimension: 3) } throws: { error in
            "\(error)".contains(missing) && "\(error)".contains("writable")
        }
    }

    @Test("a full disk is a clear error naming the folder and what to do, and the space comes back",
          .enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func diskFull() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "mount -t tmpfs failed")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [dir]
            try? umount.run()
            umount.waitUntilExit()
        }
        let chunk = [Float](repeating: 1, count: 64 * 1024)   // 256 kB
        do {
            let spill = try VectorSpill(directory: dir, dimension: 256)
            var failure: VectorSpill.Error?
            for _ in 0..<8 {
                do { try chunk.withUnsafeBufferPointer { try spill.append($0) } } catch let e as VectorSpill.Error { failure = e; break }
            }
            let e = try #require(failure, "8 × 256 kB fitted into a 1 MB tmpfs")
            #expect(e.isDiskFull)
            #expect(e.description.contains("no space left") && e.description.contains(dir) && e.description.contains("free space"))
        }
        let free = (try FileManager.default.attributesOfFileSystem(forPath: dir)[.systemFreeSize] as? NSNumber)?.intValue ?? 0
        #expect(free > 900_000, "only \(free) bytes free after the spill was released")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}
