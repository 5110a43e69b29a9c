import Foundation
import Testing

/// The deploy files of the sharded nightly (issue #14), checked for structure without a cluster:
/// deploy/kubernetes/strata-nightly.yaml (read through python3 + PyYAML, which scripts/setup.sh installs
/// with STRATA_SETUP_PYTHON=1) and deploy/slurm/*.sbatch + nightly.sh.

/// Whether python3 can import PyYAML.
private let pyYAMLInstalled: Bool = (try? runProcess("/usr/bin/env", ["python3", "-c", "import yaml"]))?.status == 0

/// Reading the Kubernetes manifest as JSON objects.
private enum Manifest {
    static let path = repoRoot.appendingPathComponent("deploy/kubernetes/strata-nightly.yaml").path
    static let toJSON = "import json,sys,yaml; json.dump(list(yaml.safe_load_all(open(sys.argv[1]))), sys.stdout)"

    /// Every YAML document of the manifest.
    static func documents() throws -> [[String: Any]] {
        let r = try runProcess("/usr/bin/env", ["python3", "-c", toJSON, path])
        try #require(r.status == 0, "python3 + PyYAML could not read \(path): \(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
        let list = try #require(json as? [Any], "not a list of documents: \(r.stdout.prefix(200))")
        return list.compactMap { $0 as? [String: Any] }
    }

    /// The object of this kind and name.
    static func object(_ docs: [[String: Any]], kind: String, name: String) throws -> [String: Any] {
        let found = docs.first { ($0["kind"] as? String) == kind && Manifest.name($0) == name }
        return try #require(found, "no \(kind) \(name) in \(path)")
    }

    static func name(_ object: [String: Any]) -> String? { dict(object["metadata"])["name"] as? String }
    static func dict(_ value: Any?) -> [String: Any] { value as? [String: Any] ?? [:] }
    static func dicts(_ value: Any?) -> [[String: Any]] { (value as? [Any] ?? []).compactMap { $0 as? [String: Any] } }
    static func strings(_ value: Any?) -> [String] { (value as? [Any] ?? []).compactMap { $0 as? String } }

    static func int(_ value: Any?) -> Int? {
        if let i = value as? Int { return i }
        return (value as? NSNumber)?.intValue
    }

    /// A Job's pod spec.
    static func podSpec(_ job: [String: Any]) -> [String: Any] { dict(dict(dict(job["spec"])["template"])["spec"]) }

    /// The Job's one container.
    static func container(_ job: [String: Any]) throws -> [String: Any] {
        let containers = dicts(podSpec(job)["containers"])
        try #require(containers.count == 1, "\(name(job) ?? "?"): expected one container, found \(containers.count)")
        return containers[0]
    }

    /// `command` followed by `args`: the process the container starts.
    static func invocation(_ container: [String: Any]) -> [String] {
        strings(container["command"]) + strings(container["args"])
    }

    /// The container's env entry with this name.
    static func env(_ container: [String: Any], _ name: String) -> [String: Any]? {
        dicts(container["env"]).first { ($0["name"] as? String) == name }
    }

    /// The names referenced as `$(NAME)` in a Kubernetes command or argument.
    static func references(_ argument: String) -> [String] {
        argument.components(separatedBy: "$(").dropFirst().compactMap { part in
            part.firstIndex(of: ")").map { String(part[..<$0]) }
        }
    }
}

@Suite("deploy/kubernetes: the nightly manifest's structure (no cluster)",
       .enabled(if: underCI || pyYAMLInstalled, "needs python3 with PyYAML: STRATA_SETUP_PYTHON=1 scripts/setup.sh"))
struct KubernetesManifestTests {
    @Test("python3 with PyYAML is installed (under CI=true its absence fails here)")
    func pyYAML() {
        #expect(pyYAMLInstalled, "python3 cannot import yaml: scripts/setup.sh (STRATA_SETUP_PYTHON=1) installs pyyaml")
    }

    @Test("the ConfigMap, both claims and the three Jobs are there; no Secret value ships")
    func objects() throws {
        let docs = try Manifest.documents()
        for (kind, name) in [("ConfigMap", "strata-nightly"), ("PersistentVolumeClaim", "strata-state"),
                             ("PersistentVolumeClaim", "strata-models")] {
            _ = try Manifest.object(docs, kind: kind, name: name)
        }
        for name in ["strata-embed", "strata-fit", "strata-assign"] { _ = try Manifest.object(docs, kind: "Job", name: name) }
        #expect(!docs.contains { ($0["kind"] as? String) == "Secret" })
    }

    @Test("the ConfigMap's URLs hold no password")
    func configMap() throws {
        let config = try Manifest.object(Manifest.documents(), kind: "ConfigMap", name: "strata-nightly")
        let data = Manifest.dict(config["data"])
        for key in ["STRATA_SOURCE", "STRATA_SHARED"] {
            let url = try #require(data[key] as? String, "ConfigMap strata-nightly has no \(key)")
            #expect(url.hasPrefix("postgres://"), "\(key)=\(url)")
            #expect(URLComponents(string: url)?.password == nil, "\(key) must not hold a password: PGPASSWORD comes from the Secret")
        }
    }

    @Test("embed and assign are Indexed Jobs: completions = parallelism = STRATA_SHARD_COUNT (env and ConfigMap), per-index retries, restartPolicy Never",
          arguments: ["strata-embed", "strata-assign"])
    func indexed(_ name: String) throws {
        let docs = try Manifest.documents()
        let job = try Manifest.object(docs, kind: "Job", name: name)
        let spec = Manifest.dict(job["spec"])
        #expect(spec["completionMode"] as? String == "Indexed")
        let completions = try #require(Manifest.int(spec["completions"]), "\(name) has no completions")
        #expect(Manifest.int(spec["parallelism"]) == completions)
        #expect(Manifest.int(spec["backoffLimitPerIndex"]) != nil, "\(name) needs backoffLimitPerIndex")
        #expect(Manifest.podSpec(job)["restartPolicy"] as? String == "Never")
        let container = try Manifest.container(job)
        let count = Manifest.env(container, "STRATA_SHARD_COUNT")
        #expect(count?["value"] as? String == String(completions), "\(name): env STRATA_SHARD_COUNT must equal completions")
        let config = try Manifest.object(docs, kind: "ConfigMap", name: "strata-nightly")
        #expect(Manifest.dict(config["data"])["STRATA_SHARD_COUNT"] as? String == String(completions))
    }

    @Test("each Job's container runs `strata STEP … --shared …` with restartPolicy Never; every $(VAR) is defined in its env",
          arguments: ["embed", "fit", "assign"])
    func invocation(_ step: String) throws {
        let job = try Manifest.object(Manifest.documents(), kind: "Job", name: "strata-\(step)")
        let container = try Manifest.container(job)
        let argv = Manifest.invocation(container)
        try #require(argv.count >= 2, "strata-\(step): no command")
        #expect(argv[0] == "strata" || argv[0].hasSuffix("/strata"), "\(argv)")
        #expect(argv[1] == step, "\(argv)")
        #expect(argv.contains("--shared"), "\(argv)")
        #expect(Manifest.podSpec(job)["restartPolicy"] as? String == "Never")
        for name in argv.flatMap(Manifest.references) {
            #expect(Manifest.env(container, name) != nil, "strata-\(step) uses $(\(name)) but its env does not define it")
        }
    }

    @Test("fit: completions 1, and the path given to --state is where the strata-state claim is mounted, writable")
    func fitState() throws {
        let docs = try Manifest.documents()
        let job = try Manifest.object(docs, kind: "Job", name: "strata-fit")
        #expect(Manifest.int(Manifest.dict(job["spec"])["completions"]) == 1)
        let container = try Manifest.container(job)
        let argv = Manifest.invocation(container)
        let flag = try #require(argv.firstIndex(of: "--state"), "strata-fit: no --state in \(argv)")
        try #require(flag + 1 < argv.count, "strata-fit: --state has no value")
        let statePath = argv[flag + 1]
        let found = Manifest.dicts(container["volumeMounts"]).first { ($0["mountPath"] as? String) == statePath }
        let mount = try #require(found, "strata-fit mounts nothing at \(statePath)")
        #expect(mount["readOnly"] as? Bool != true)
        let volume = Manifest.dicts(Manifest.podSpec(job)["volumes"]).first { ($0["name"] as? String) == (mount["name"] as? String) }
        #expect(Manifest.dict(volume?["persistentVolumeClaim"])["claimName"] as? String == "strata-state")
    }

    @Test("PGPASSWORD comes from secretKeyRef strata-postgres/password in every Job",
          arguments: ["strata-embed", "strata-fit", "strata-assign"])
    func password(_ name: String) throws {
        let job = try Manifest.object(Manifest.documents(), kind: "Job", name: name)
        let container = try Manifest.container(job)
        let entry = try #require(Manifest.env(container, "PGPASSWORD"), "\(name) has no PGPASSWORD")
        #expect(entry["value"] == nil, "\(name): PGPASSWORD must not be a literal value")
        let ref = Manifest.dict(Manifest.dict(entry["valueFrom"])["secretKeyRef"])
        #expect(ref["name"] as? String == "strata-postgres")
        #expect(ref["key"] as? String == "password")
    }

    @Test("every volumeMount names a volume of its pod; every claim a pod uses is in the manifest",
          arguments: ["strata-embed", "strata-fit", "strata-assign"])
    func volumes(_ name: String) throws {
        let docs = try Manifest.documents()
        let job = try Manifest.object(docs, kind: "Job", name: name)
        let volumes = Manifest.dicts(Manifest.podSpec(job)["volumes"])
        let names = Set(volumes.compactMap { $0["name"] as? String })
        let container = try Manifest.container(job)
        for mount in Manifest.dicts(container["volumeMounts"]) {
            let volume = mount["name"] as? String ?? "?"
            #expect(names.contains(volume), "\(name) mounts \(volume), which its pod spec does not define")
        }
        for volume in volumes {
            guard let claim = Manifest.dict(volume["persistentVolumeClaim"])["claimName"] as? String else { continue }
            #expect(docs.contains { ($0["kind"] as? String) == "PersistentVolumeClaim" && Manifest.name($0) == claim },
                    "\(name) uses the claim \(claim), which the manifest does not define")
        }
    }
}

/// A Slurm batch script's `#SBATCH` options, read the way sbatch reads them: from the top of the file
/// until the first line that is neither blank nor a comment.
private struct BatchScript {
    let text: String
    /// `--name` → value ("" for a flag such as `--requeue`), from the header.
    let options: [String: String]
    /// `#SBATCH` lines after the first command, which sbatch ignores.
    let ignored: [String]

    init(step: String) throws {
        text = try String(contentsOf: repoRoot.appendingPathComponent("deploy/slurm/\(step).sbatch"), encoding: .utf8)
        var options: [String: String] = [:]
        var ignored: [String] = []
        var header = true
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw).trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#SBATCH") {
                if header { Self.add(line, to: &options) } else { ignored.append(line) }
            } else if !line.isEmpty && !line.hasPrefix("#") {
                header = false
            }
        }
        self.options = options
        self.ignored = ignored
    }

    /// Adds `#SBATCH --name=value`, `#SBATCH --name value` or `#SBATCH --flag`.
    static func add(_ line: String, to options: inout [String: String]) {
        let body = String(line.dropFirst("#SBATCH".count)).trimmingCharacters(in: .whitespaces)
        if let eq = body.firstIndex(of: "=") {
            options[String(body[..<eq])] = String(body[body.index(after: eq)...])
        } else {
            let parts = body.split(separator: " ", maxSplits: 1)
            let name = parts.first.map { String($0) } ?? ""
            options[name] = parts.count > 1 ? String(parts[1]) : ""
        }
    }
}

@Suite("deploy/slurm and deploy/kubernetes/nightly.sh: the scripts (no cluster)")
struct DeployScriptTests {
    @Test("each .sbatch names its job, is requeue-friendly, asks for CPUs, and sets nothing the test cluster lacks",
          arguments: ["embed", "fit", "assign"])
    func header(_ step: String) throws {
        let script = try BatchScript(step: step)
        #expect(script.options["--job-name"] == "strata-\(step)")
        #expect(script.options["--requeue"] != nil, "\(step).sbatch: --requeue")
        #expect(script.options["--open-mode"] == "append", "\(step).sbatch: a requeued run must not truncate the log")
        let cpus = Int(script.options["--cpus-per-task"] ?? "") ?? 0
        #expect(cpus >= 1, "\(step).sbatch: --cpus-per-task")
        #expect(script.options["--partition"] == nil, "the partition is the site's choice (STRATA_SBATCH_ARGS)")
        #expect(script.options["--account"] == nil, "scripts/slurm-cluster.sh runs without accounting")
        #expect(script.ignored.isEmpty, "sbatch ignores #SBATCH lines after the first command: \(script.ignored)")
    }

    @Test("each .sbatch runs `strata STEP SOURCE --shared SHARED` from the environment, with an error when a variable is missing",
          arguments: ["embed", "fit", "assign"])
    func command(_ step: String) throws {
        let text = try BatchScript(step: step).text
        #expect(text.contains("\(step) \"$STRATA_SOURCE\" --shared \"$STRATA_SHARED\""))
        #expect(text.contains("STRATA_BIN"))
        for name in ["STRATA_SOURCE", "STRATA_SHARED"] + (step == "fit" ? ["STRATA_STATE"] : []) {
            #expect(text.contains("need \(name) "), "\(step).sbatch must refuse a missing \(name) with a message")
        }
        if step == "fit" { #expect(text.contains("--state \"$STRATA_STATE\"")) }
    }

    @Test("nightly.sh chains the steps with sbatch --parsable, --array=0-(N-1) and --dependency=afterok, and says how to rerun a shard")
    func slurmNightly() throws {
        let text = try String(contentsOf: repoRoot.appendingPathComponent("deploy/slurm/nightly.sh"), encoding: .utf8)
        for needle in ["--parsable", "--array=0-", "--dependency=afterok", "STRATA_SHARDS:-4", "sacct -j", "scontrol requeue"] {
            #expect(text.contains(needle), "nightly.sh: \(needle)")
        }
    }

    @Test("deploy/kubernetes/nightly.sh waits for each Job in turn and prints the failed indexes")
    func kubernetesNightly() throws {
        let text = try String(contentsOf: repoRoot.appendingPathComponent("deploy/kubernetes/nightly.sh"), encoding: .utf8)
        #expect(text.contains("wait --for=condition=complete"))
        #expect(text.contains("failedIndexes"))
        #expect(text.contains("set -euo pipefail"))
    }

    @Test("the deploy scripts parse (bash -n)",
          arguments: ["slurm/embed.sbatch", "slurm/fit.sbatch", "slurm/assign.sbatch", "slurm/nightly.sh", "kubernetes/nightly.sh"])
    func syntax(_ file: String) throws {
        let r = try runProcess("/usr/bin/env", ["bash", "-n", repoRoot.appendingPathComponent("deploy/\(file)").path])
        #expect(r.status == 0, "\(file): \(r.stderr)")
    }
}
