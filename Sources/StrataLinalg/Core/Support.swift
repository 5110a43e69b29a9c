import Foundation
import Synchronization

/// Small vectorisable loops shared by the numeric code. All pointers are row-major and contiguous.
@usableFromInline
enum Kernels {
    @inlinable
    static func rowSquaredNorms(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * cols
            var s: Float = 0
            for j in 0..<cols { s += row[j] * row[j] }
            out[r] = s
        }
    }

    /// dst[0..<n] += src[0..<n]
    @inlinable
    static func add(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count n: Int) {
        for j in 0..<n { dst[j] += src[j] }
    }

    /// dst[0..<n] += src[0..<n], accumulating floats in double precision.
    @inlinable
    static func add(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Double>, count n: Int) {
        for j in 0..<n { dst[j] += Double(src[j]) }
    }

    /// Squared Euclidean distance between two vectors of length n with eight-lane SIMD partial sums:
    /// several times faster than ``squaredDistance(_:_:count:)`` (whose one running sum the compiler
    /// may not reorder), with a different rounding order (same worst-case error bound). For callers that
    /// only need a bound, such as ``HamerlyBounds``.
    @inlinable
    static func squaredDistanceLanes(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var j = 0
        while j + 16 <= n {
            let d0 = ra.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                - rb.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            let d1 = ra.loadUnaligned(fromByteOffset: (j + 8) * 4, as: SIMD8<Float>.self)
                - rb.loadUnaligned(fromByteOffset: (j + 8) * 4, as: SIMD8<Float>.self)
            acc0 += d0 * d0
            acc1 += d1 * d1
            j += 16
        }
        var s = (acc0 + acc1).sum()
        while j < n { let d = a[j] - b[j]; s += d * d; j += 1 }
        return s
    }

    /// Squared Euclidean distance between two vectors of length n.
    @inlinable
    static func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
        var s: Float = 0
        for j in 0..<n { let d = a[j] - b[j]; s += d * d }
        return s
    }
}

/// Splits work over the machine's cores with `DispatchQueue.concurrentPerform`.
public enum Parallel {
    /// Number of worker threads Strata uses (the active processor count, at least 1).
    public static var workerCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Splits `0..<count` into at most `workers` contiguous chunks and runs `body(chunkIndex, range)` for
    /// each chunk concurrently. Chunk i always covers the same range for a given (count, workers), so
    /// per-chunk results reduced in chunk order are deterministic.
    public static func chunks(count: Int, workers: Int = Parallel.workerCount,
                              _ body: (Int, Range<Int>) -> Void) {
        let w = max(1, min(workers, count))
        if count == 0 { return }
        if w == 1 { body(0, 0..<count); return }
        // The workers write to disjoint parts of caller-owned buffers; `concurrentPerform` returns only
        // after every worker finished, so the non-escaping body never outlives this call.
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedSendable(escapable)
            DispatchQueue.concurrentPerform(iterations: w) { i in
                let lo = count * i / w, hi = count * (i + 1) / w
                box.value(i, lo..<hi)
            }
        }
    }

    /// Row tiles for tiled BLAS work: rows 0..<n in tiles of `tileRows` (the last may be shorter), each
    /// of at most `workers` workers given a contiguous run of tiles as `body(worker, tiles)` (the same
    /// split as ``chunks(count:workers:_:)``, so per-worker results reduced in order are deterministic).
    /// OpenBLAS runs `blasThreads` threads inside each call meanwhile (nil: as the caller set it) —
    /// parallel over tiles or inside BLAS, never both.
    public static func rowTiles(rows n: Int, tileRows: Int, workers: Int = Parallel.workerCount, blasThreads: Int? = 1,
                                _ body: (Int, [Range<Int>]) -> Void) {
        let tiles = (n + tileRows - 1) / tileRows
        BLAS.withThreads(ifSet: blasThreads) {
            chunks(count: tiles, workers: workers) { w, range in
                body(w, range.map { t in (t * tileRows)..<min(n, (t + 1) * tileRows) })
            }
        }
    }

    /// The ranges that ``chunks(count:workers:_:)`` would produce.
    public static func chunkRanges(count: Int, workers: Int = Parallel.workerCount) -> [Range<Int>] {
        let w = max(1, min(workers, count))
        return (0..<w).map { i in (count * i / w)..<(count * (i + 1) / w) }
    }
}

/// Carries a value into a `@Sendable` closure when the caller guarantees race freedom.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A small, fast, seedable PRNG (xoshiro256**, seeded through SplitMix64). Deterministic across
/// platforms for a given seed, unlike `SystemRandomNumberGenerator`.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// Creates a generator whose stream is fully determined by `seed`.
    public init(seed: UInt64) {
        var z = seed
        func splitmix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// A uniform double in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// Median of a non-empty array (the mean of the two middle values for even counts).
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// A stop request that synchronous work can poll from any thread: the numeric loops (k-means
/// iterations, k-means++ steps, the k-scan's candidates, the encoder's batches) run on worker threads
/// where `Task.isCancelled` cannot see the task that started them.
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    /// Whether a stop was requested. One relaxed atomic load: cheap enough for every batch or iteration.
    public var isStopped: Bool { flag.load(ordering: .relaxed) }

    /// Requests the stop.
    public func stop() { flag.store(true, ordering: .relaxed) }

    /// Throws `CancellationError` when a stop was requested.
    public func check() throws { if isStopped { throw CancellationError() } }

    /// Runs the synchronous `body` with a flag that is set as soon as the current task is cancelled
    /// (SIGTERM/SIGINT at the CLI), and throws `CancellationError` afterwards if it was.
    public static func whileRunning<T>(_ body: (StopFlag) throws -> T) async throws -> T {
        let flag = StopFlag()
        let value = try await withTaskCancellationHandler { try body(flag) } onCancel: { flag.stop() }
        try Task.checkCancellation()
        return value
    }
}
