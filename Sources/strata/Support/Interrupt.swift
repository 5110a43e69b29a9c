import ArgumentParser
import Foundation
import Synchronization
import Strata
import StrataLinalg
import StrataStore

/// SIGTERM and SIGINT: the first one cancels the running command, which stops at its next safe point
/// (between stages or embedding slices; never inside the write), releases the state lock, removes its
/// temporary files and exits 128 + the signal number with a message. A second signal kills at once.
enum Interrupt {
    private static let received = Mutex<Int32>(0)

    /// The signal that stopped the run (0 when none arrived).
    static var signal: Int32 { received.withLock { $0 } }

    /// Starts watching; `cancel` runs once, on the first signal.
    static func watch(_ cancel: @escaping @Sendable () -> Void) -> [DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { sig in
            Foundation.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                let first = received.withLock { r -> Bool in defer { if r == 0 { r = sig } }; return r == 0 }
                if first {
                    FileHandle.standardError.write(Data("strata: \(sig == SIGTERM ? "SIGTERM" : "SIGINT") received; stopping at the next safe point (again to kill now)\n".utf8))
                    cancel()
                } else {
                    Foundation.signal(sig, SIG_DFL)
                    kill(getpid(), sig)
                }
            }
            source.resume()
            return source
        }
    }
}

extension Interrupt {
    /// A signal that arrived after the last safe point (during the write, which is never interrupted):
    /// the command finished and committed; it still exits 128 + the signal, saying so.
    static func completedAnyway() -> Never {
        let name = signal == SIGTERM ? "SIGTERM" : "SIGINT"
        FileHandle.standardError.write(Data("strata: \(name) arrived after the last safe point; the command had finished its work (a run: outputs and state are this run's, committed) and exits now\n".utf8))
        Foundation.exit(128 + signal)
    }
}
