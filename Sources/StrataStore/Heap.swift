#if canImport(Glibc)
import Glibc
#endif

/// The process heap.
public enum Heap {
    /// Returns the heap's free pages to the operating system (glibc's `malloc_trim`). Reading a large
    /// source parses every record into short-lived objects between the long-lived documents; glibc
    /// keeps the freed pages, so 700k JSON lines left ~1.5 GB resident before the first vector was
    /// allocated. O(heap size); a no-op where glibc is not the allocator.
    public static func trim() {
        #if canImport(Glibc)
        if let f = mallocTrim { _ = f(0) }
        #endif
    }

    #if canImport(Glibc)
    /// `malloc_trim` looked up once (Swift's Glibc module does not export <malloc.h>).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()
    #endif
}
