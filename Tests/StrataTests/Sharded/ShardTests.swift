import Foundation
import Strata
import Testing

/// The shard decision for scheduler job arrays (issue #14), in process.
@Suite("shards: --shard, Slurm and Kubernetes variables, a stable partition by document id")
struct ShardTests {
    @Test("--shard i/N parses; malformed or out-of-range values are usage errors that name the option",
          arguments: ["0/4", "3/4", "0/1", "4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", ""])
    func parse(_ text: String) throws {
        let valid = ["0/4", "3/4", "0/1"]
        if valid.contains(text) {
            #expect(try Shard.parse(text).description == text)
        } else {
            let error = try #require(throws: StrataError.self) { try Shard.parse(text) }
            #expect(error.exitCode == 2)
            #expect(error.message.contains("--shard"), "\(error.message)")
        }
    }

    @Test("Slurm arrays 0-3 and 1-4 both give shards 0…3 of 4; a stepped array or a missing count is refused")
    func slurm() throws {
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "0",
                                           "SLURM_ARRAY_TASK_MAX": "3", "SLURM_ARRAY_TASK_COUNT": "4"]) == Shard(index: 2, count: 4))
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1",
                                           "SLURM_ARRAY_TASK_MAX": "4", "SLURM_ARRAY_TASK_COUNT": "4"]) == Shard(index: 3, count: 4))
        let stepped = try #require(throws: StrataError.self) {
            try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "0",
                                       "SLURM_ARRAY_TASK_MAX": "6", "SLURM_ARRAY_TASK_COUNT": "4"])
        }
        #expect(stepped.message.contains("contiguous"))
        let noCount = try #require(throws: StrataError.self) { try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "1"]) }
        #expect(noCount.message.contains("SLURM_ARRAY_TASK_COUNT"))
    }

    @Test("Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX of STRATA_SHARD_COUNT; --shard wins; nothing set is the whole corpus")
    func kubernetesAndPrecedence() throws {
        #expect(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "1", "STRATA_SHARD_COUNT": "3"]) == Shard(index: 1, count: 3))
        #expect(throws: StrataError.self) { try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "1"]) }
        #expect(throws: StrataError.self) { try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "3", "STRATA_SHARD_COUNT": "3"]) }
        #expect(try Shard.resolve(option: "0/2", environment: ["JOB_COMPLETION_INDEX": "1", "STRATA_SHARD_COUNT": "3"]) == Shard(index: 0, count: 2))
        #expect(try Shard.resolve(option: nil, environment: [:]) == nil)
    }

    @Test("every id has exactly one owner; 40,000 ids spread within 5% of even over 4 shards; the partition is a function of the id alone")
    func partition() throws {
        let ids = (0..<40_000).map { "doc-\($0)" }
        let shards = try (0..<4).map { try Shard(index: $0, count: 4) }
        var sizes = [Int](repeating: 0, count: 4)
        for id in ids {
            let owners = shards.filter { $0.owns(id) }
            #expect(owners.count == 1)
            sizes[owners[0].index] += 1
        }
        for s in sizes { #expect(abs(s - 10_000) < 500, "\(sizes)") }
        // Known values from Python's hashlib (int.from_bytes(sha256(id)[:8], "big") % N): a change to the
        // function would move every document between shards.
        #expect((0..<5).map { Shard.of("doc-\($0)", count: 4) } == [2, 1, 0, 1, 1])
        #expect((0..<5).map { Shard.of("doc-\($0)", count: 7) } == [6, 1, 2, 1, 6])
        #expect((0..<100).map { Shard.of("doc-\($0)", count: 1) }.allSatisfy { $0 == 0 })
    }
}
