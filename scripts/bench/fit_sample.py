"""Scores scripts/bench/fit_sample.sh's runs: NMI against the truth field (or, with truth "-", against
the largest sample's seed-1 fit), median of the seeds, per sample size, with the run's median wall time."""
import json
import statistics
import sys
from pathlib import Path

from sklearn.metrics import normalized_mutual_info_score as nmi

corpus, truth, work, name, *sizes = sys.argv[1:]
work = Path(work)
times = {}
for line in (work / "times").read_text().split("\n"):
    if line.startswith(name + " "):
        _, size, seed, seconds = line.split()
        times.setdefault(size, []).append(float(seconds))


def topics(size, seed):
    return (work / f"{name}.{size}.{seed}.topics").read_text().split()


reference = [json.loads(l)[truth] for l in open(corpus)] if truth != "-" else topics(sizes[-1], 1)
against = f"truth field {truth}" if truth != "-" else f"the fit on {sizes[-1]} documents, seed 1"
print(f"\n{name}: NMI against {against} (median of seeds 1-3; each seed's value) and run wall time")
whole = None
for size in reversed(sizes):
    values = [nmi(reference, topics(size, s)) for s in (1, 2, 3)]
    med = statistics.median(values)
    whole = whole if whole is not None else med
    print(f"  --fit-sample {int(size):>8,}: NMI {med:.4f} (Δ {med - whole:+.4f})  seeds "
          + " ".join(f"{v:.4f}" for v in values) + f"   run {statistics.median(times[size]):.1f} s")
