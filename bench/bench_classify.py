"""Benchmark of the learned classifier on the public Endava ticket set.

One stratified hold-out of train.csv (seed 42, 80/20): the plain baselines and our
model train on the same 80% and are scored on the same 20%. With `--cv K`, also K
stratified folds over the whole file (each fold scored once, baselines and ours on the
same folds), so a gain is not one split's luck. Then: one-at-a-time latency on one
core, training time on 40,000 tickets (both cores, as `desk-enricher train` runs),
resident memory after loading the model file in a fresh process.

Any labelled CSV works (`--csv`, `--text-column`, repeatable, `--label-column`), e.g.
an assignment-group export, to compare with the plain baseline on the same split.

    .venv/bin/python bench/bench_classify.py [--cv 5] [--wait-quiet 300]
"""
from __future__ import annotations

import os

# One core, one thread: what a worker gets. Set before numpy loads its BLAS.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline, make_union
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _common as c

from plugin.classifiers import model as M
from plugin.classifiers.catalog import ClassificationSettings
from plugin.classifiers.step import classify
from plugin.classifiers.training import evaluate, read_csv
from plugin.models import Requester, StepContext, Ticket

DATA = c.SHARED / "data" / "endava-topics" / "train.csv"
RSS_PROBE = """
import sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
from plugin.classifiers.model import TrainedModel
before = rss()
m = TrainedModel.load(sys.argv[1])
m.scores("warm up the fast path")
print(f"{before:.1f} {rss():.1f}")
"""


def load(path: Path, text_columns: list[str], label_column: str) -> tuple[list[str], list[str]]:
    data = read_csv(path, text_columns, label_column)
    return data.texts, data.labels


def score(name: str, fit, xa, ya, xb, yb) -> tuple[float, float]:
    t0 = time.perf_counter()
    predict = fit(xa, ya)
    seconds = time.perf_counter() - t0
    pred = predict(xb)
    acc, f1 = accuracy_score(yb, pred), f1_score(yb, pred, average="macro")
    print(f"  {name:<46} accuracy {acc:.4f}  macro-F1 {f1:.4f}  (fit {seconds:.1f}s)")
    return acc, f1


def baselines(xa, ya, xb, yb) -> dict[str, tuple[float, float]]:
    plain = {"plain TF-IDF (words) + LinearSVC": lambda: make_pipeline(TfidfVectorizer(), LinearSVC()),
             "plain TF-IDF (words + char_wb) + LinearSVC": lambda: make_pipeline(
                 make_union(TfidfVectorizer(), TfidfVectorizer(analyzer="char_wb")), LinearSVC())}
    out = {}
    for name, build in plain.items():
        def fit(x, y, build=build):
            return build().fit(x, y).predict
        out[name] = score(name, fit, xa, ya, xb, yb)
    return out


def latency(model: M.TrainedModel, texts: list[str], n: int) -> None:
    sample = texts[:n]
    for t in sample[:50]:
        model.scores(t)
    runs = []
    for t in sample:
        t0 = time.perf_counter()
        model.scores(t)
        runs.append((time.perf_counter() - t0) * 1000)
    runs.sort()
    p50, p99 = c.percentile(runs, 50), c.percentile(runs, 99)
    print(f"  model.scores, one at a time, n={len(runs)}: p50 {p50:.3f} ms  p99 {p99:.3f} ms  "
          f"mean {np.mean(runs):.3f} ms  max {runs[-1]:.3f} ms  [{c.verdict(p99 < 2)} < 2 ms]")
    ctx = StepContext(settings=ClassificationSettings(), model=model)
    steps = []
    for i, t in enumerate(sample):
        ticket = Ticket(platform="zammad", id=str(i), number=str(i), title=t[:60], body=t,
                        requester=Requester(id="7"), event="create")
        t0 = time.perf_counter()
        classify(ticket, ctx)
        steps.append((time.perf_counter() - t0) * 1000)
    steps.sort()
    print(f"  whole classification step (rules + model + stream), n={len(steps)}: "
          f"p50 {c.percentile(steps, 50):.3f} ms  p99 {c.percentile(steps, 99):.3f} ms")
    slow = []
    for t in sample[:200]:
        t0 = time.perf_counter()
        model.pipeline.predict_proba([model.clip(t)])
        slow.append((time.perf_counter() - t0) * 1000)
    slow.sort()
    print(f"  (for comparison: sklearn pipeline.predict_proba one at a time p50 "
          f"{c.percentile(slow, 50):.3f} ms)")


def train_40k(texts: list[str], labels: list[str], seed: int) -> None:
    rng = np.random.default_rng(seed)
    extra = rng.choice(len(texts), size=max(0, 40_000 - len(texts)), replace=False)
    xs = texts + [texts[i] for i in extra]
    ys = labels + [labels[i] for i in extra]
    t0 = time.perf_counter()
    M.train(xs, ys)
    seconds = time.perf_counter() - t0
    print(f"  train() on {len(xs)} tickets ({len(texts)} + {len(extra)} resampled), "
          f"{len(os.sched_getaffinity(0))} cores: "
          f"{seconds:.1f} s  [{c.verdict(seconds < 60)} < 60 s]")


def rss(model: M.TrainedModel, work: Path) -> None:
    path = model.save(work / "endava.joblib")
    repo = str(Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", RSS_PROBE, str(path)], cwd=repo, check=True,
                         capture_output=True, text=True, timeout=300).stdout.split()
    before, after = float(out[0]), float(out[1])
    print(f"  model file {path.stat().st_size / 2**20:.1f} MiB; fresh process RSS {before:.0f} MiB "
          f"with the libraries imported, {after:.0f} MiB after loading the model "
          f"(+{after - before:.0f} MiB)")


def ours(holder: dict):
    def fit(x, y):
        holder["m"] = M.train(x, y)
        return holder["m"].predict
    return fit


OURS = "desk-enricher (text + title + topics, stacked)"


def cross_validate(texts: list[str], labels: list[str], k: int, seed: int) -> None:
    print(f"{k}-fold cross-validation over all {len(texts)} tickets (seed {seed}):")
    x, y = np.array(texts, dtype=object), np.array(labels, dtype=object)
    rows: dict[str, list[tuple[float, float]]] = {}
    for i, (tr, te) in enumerate(StratifiedKFold(k, shuffle=True, random_state=seed).split(x, y)):
        print(f" fold {i + 1}/{k}")
        xa, xb, ya, yb = list(x[tr]), list(x[te]), list(y[tr]), list(y[te])
        for name, res in baselines(xa, ya, xb, yb).items():
            rows.setdefault(name, []).append(res)
        rows.setdefault(OURS, []).append(score(OURS, ours({}), xa, ya, xb, yb))
    plain = np.array(rows["plain TF-IDF (words + char_wb) + LinearSVC"])
    for name, res in rows.items():
        a = np.array(res)
        print(f"  {name:<46} accuracy {a[:, 0].mean():.4f} (min {a[:, 0].min():.4f}, max "
              f"{a[:, 0].max():.4f})  macro-F1 {a[:, 1].mean():.4f}")
    gain = np.array(rows[OURS])[:, 0] - plain[:, 0]
    print(f"  ours - plain (words + char_wb), per fold: {' '.join(f'{g:+.4f}' for g in gain)}; "
          f"mean {gain.mean():+.4f}, ratio x{np.array(rows[OURS])[:, 0].mean() / plain[:, 0].mean():.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", type=Path, default=DATA)
    ap.add_argument("--text-column", action="append", dest="text_columns",
                    help="text column(s), joined by a newline (default: text)")
    ap.add_argument("--label-column", default="topic_group")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--test-size", type=float, default=0.2)
    ap.add_argument("--cv", type=int, default=0, metavar="K", help="also K-fold cross-validation")
    ap.add_argument("--latency-n", type=int, default=2000)
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                    help="before timing, wait up to this long for other processes to leave the CPUs")
    ap.add_argument("--skip-40k", action="store_true", help="skip the 40,000-ticket training run")
    args = ap.parse_args()
    c.install_sigterm()
    texts, labels = load(args.csv, args.text_columns or ["text"], args.label_column)
    xa, xb, ya, yb = train_test_split(texts, labels, test_size=args.test_size, stratify=labels,
                                      random_state=args.seed)
    print(f"{args.csv.name}: {len(texts)} tickets, {len(set(labels))} labels; stratified hold-out "
          f"seed {args.seed}: train {len(xa)}, test {len(xb)}. {c.load_note()}")
    print("accuracy on the hold-out:")
    base = baselines(xa, ya, xb, yb)
    holder: dict[str, M.TrainedModel] = {}
    acc, f1 = score(OURS, ours(holder), xa, ya, xb, yb)
    model = holder["m"]
    for name, (b_acc, b_f1) in base.items():
        print(f"  ratio to {name}: accuracy x{acc / b_acc:.4f} ({acc - b_acc:+.4f}), "
              f"macro-F1 x{f1 / b_f1:.4f} ({f1 - b_f1:+.4f})")
    print(f"  target accuracy > 0.87: {c.verdict(acc > 0.87)}")
    m = evaluate(model, xb, yb, 0.6)
    print(f"  at confidence 0.6: coverage {m['coverage_at_threshold']:.3f}, "
          f"accuracy {m['accuracy_at_threshold']:.4f}")
    if args.cv:
        cross_validate(texts, labels, args.cv, args.seed)
    if args.wait_quiet:
        print("  " + c.wait_quiet(args.wait_quiet))
    print("training time:")
    if not args.skip_40k:
        train_40k(texts, labels, args.seed)
    print("latency (one core):")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    latency(model, xb, args.latency_n)
    print("memory:")
    with c.temp_dir("bench-classify-") as work:
        rss(model, work)


if __name__ == "__main__":
    main()
