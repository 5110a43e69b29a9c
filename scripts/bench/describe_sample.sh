#!/usr/bin/env bash
# What describing from a sample costs (issue #27): c-TF-IDF over all documents (a build from before the
# sample, BASE) against c-TF-IDF over Describe.termSample = 200,000 sampled documents (NEW), on the same
# clusters (--k fixed, same seed: the fits are the same, only the keywords' input differs). Prints, per
# topic matched by id, the overlap of the top-10 keywords, and the keyword labels that stayed the same.
#   scripts/bench/describe_sample.sh BASE_BIN NEW_BIN [N] [K]   (default 700000 documents of the large corpus, k 100)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
base="$1"; new="$2"; n="${3:-700000}"; k="${4:-100}"
corpus="${STRATA_SCALE_CORPUS:-$root/corpora/build/large-10000000.jsonl}"
work="$(mktemp -d /tmp/strata-describe.XXXXXX)"
trap 'rm -rf "$work"' EXIT
head -n "$n" "$corpus" >"$work/docs.jsonl"
for side in base new; do
  bin=$base; [[ $side == new ]] && bin=$new
  rc=0
  "$bin" run "$work/docs.jsonl" --embedder static --k "$k" --state "$work/$side" --quiet >/dev/null 2>"$work/$side.err" || rc=$?
  [[ $rc == 0 || $rc == 3 ]] || { tail -20 "$work/$side.err" >&2; exit 1; }
done
python3 - "$work/base/topics.json" "$work/new/topics.json" <<'PY'
import json, statistics, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ta = {t["id"]: t for t in a["topics"]}; tb = {t["id"]: t for t in b["topics"]}
same_sizes = all(ta[i]["size"] == tb[i]["size"] for i in ta if i in tb)
overlap = [len(set(ta[i]["keywords"][:10]) & set(tb[i]["keywords"][:10])) / 10 for i in ta if i in tb]
top3 = [len(set(ta[i]["keywords"][:3]) & set(tb[i]["keywords"][:3])) / 3 for i in ta if i in tb]
labels = sum(ta[i]["label"] == tb[i]["label"] for i in ta if i in tb)
print(f"documents {a['run']['counts']['documents']}, topics {len(ta)} / {len(tb)}, same clusters: {same_sizes}")
print(f"top-10 keyword overlap: median {statistics.median(overlap):.2f}, mean {statistics.mean(overlap):.3f}, min {min(overlap):.2f}")
print(f"top-3 keyword overlap: mean {statistics.mean(top3):.3f}; identical keyword labels: {labels} of {len(ta)}")
print("describe stage (s): all", a["run"]["timings"].get("describe"), "· sampled", b["run"]["timings"].get("describe"))
PY
