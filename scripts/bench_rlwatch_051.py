#!/usr/bin/env python3
"""Measure rlwatch 0.5.1 on the operations rlwatch's benchmarks (Benchmarks/) measure, for the speed-up ratio.

Setup (once):
    python3 -m venv /tmp/rlw051-venv && /tmp/rlw051-venv/bin/pip install rlwatch==0.5.1
Run:
    /tmp/rlw051-venv/bin/python scripts/bench_rlwatch_051.py [--quick] [--jsonl FILE] [FILTER ...]

The steps come from a port of `SyntheticRuns.healthy` (same SplitMix64 generator, same formulas) and the
replay-style rows from the JSONL file the benchmarks write (`/tmp/rlwatch-bench/replay-1000000.jsonl`),
so both sides do the same work:

  check_step.scalars              DetectorSuite.check_step, 9 scalar metrics, no per-sample rewards
  check_step.rewards256.*         reward_mean/std derived from a 256-sample numpy array (as log_step does)
                                  + check_step(rewards=...); .binary = 0/1 rewards, .continuous = Gaussian
  check_step.rewards256.*.plain   check_step(rewards=array) alone (0.5.1's own perf test shape)
  log_step.sqlite                 RLWatch.log_step: store row + commit + detectors (+ alert delivery)
  log_metrics.commit1             MetricStore.log_metrics, one row + commit per call (0.5.1 has no batch API)
  replay-equivalent.*             0.5.1 has no `replay`: json.loads + TRL key map + check_step (or log_step)

0.5.1 is installed without the optional `diptest` package, so its reward check uses the simplified dip
test (what `pip install rlwatch==0.5.1` gives). Timings use time.perf_counter_ns per call, after priming.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

import rlwatch
from rlwatch.config import RLWatchConfig
from rlwatch.core import RLWatch
from rlwatch.detectors import DetectorSuite
from rlwatch.storage import MetricStore

MASK = (1 << 64) - 1
PRIMING = 100


class SeededRandom:
    """SplitMix64, as RLWatchTesting.SeededRandom."""

    def __init__(self, seed: int):
        self.state = seed & MASK

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self) -> float:
        return (self.next() >> 11) * 2.0**-53

    def gaussian(self, mean: float = 0.0, std: float = 1.0) -> float:
        u1 = self.uniform()
        while u1 <= 0:
            u1 = self.uniform()
        u2 = self.uniform()
        return mean + std * math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)

    def bernoulli(self, p: float) -> bool:
        return self.uniform() < p


def healthy(steps: int, samples: int = 16, seed: int = 1, noise: float = 0.12, climb: float = 0.5) -> list[dict]:
    """Port of SyntheticRuns.healthy: dicts of log_step keyword arguments, with a `rewards` list."""
    rng = SeededRandom(seed)
    n = float(max(1, steps))
    out = []
    for i in range(steps):
        t = i / n

        def noisy(base: float) -> float:
            return max(0.0, base * (1 + noise * rng.gaussian()))

        kl = noisy(0.002 + 0.028 * (1 - math.exp(-i / 150)))
        grad = noisy(1.0 + climb * t)
        entropy = 2.2 - 0.5 * t + 0.05 * rng.gaussian()
        accuracy = 0.3 + 0.3 * t
        rewards = [1.0 if rng.bernoulli(accuracy) else 0.0 for _ in range(samples)]
        advantage = noisy(0.9)
        loss = 0.05 + 0.02 * rng.gaussian()
        clip = noisy(0.02)
        out.append(dict(
            step=i + 1, entropy=entropy, kl_divergence=kl, rewards=rewards, advantage_std=advantage,
            loss=loss, grad_norm=grad, learning_rate=1e-6, clip_fraction=clip))
    return out


def scalar_steps(count: int) -> list[dict]:
    """BenchInput.scalarSteps: rewards reduced to reward_mean / population reward_std and dropped."""
    steps = healthy(count, samples=16)
    for s in steps:
        r = s.pop("rewards")
        mean = sum(r) / len(r)
        s["reward_mean"] = mean
        s["reward_std"] = math.sqrt(sum((x - mean) ** 2 for x in r) / len(r))
    return steps


def binary_reward_steps(count: int, samples: int = 256) -> list[dict]:
    steps = healthy(count, samples=samples)
    for s in steps:
        s["rewards"] = np.asarray(s["rewards"], dtype=np.float64)
    return steps


def continuous_reward_steps(count: int, samples: int = 256) -> list[dict]:
    rng = SeededRandom(7)
    steps = scalar_steps(count)
    for i, s in enumerate(steps):
        center = 0.3 + 0.3 * i / count
        s["rewards"] = np.asarray([rng.gaussian(center, 0.15) for _ in range(samples)], dtype=np.float64)
        del s["reward_mean"], s["reward_std"]
    return steps


DETECTOR_KEYS = ("entropy", "kl_divergence", "reward_mean", "reward_std", "rewards", "advantage_std", "loss", "grad_norm")


def summarize(name: str, timed: tuple[list[int], int], unit: str = "steps", note: str = "") -> dict:
    samples_ns, cpu_total_ns = timed
    mean = statistics.fmean(samples_ns)
    ordered = sorted(samples_ns)
    pick = lambda q: ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]  # noqa: E731
    return dict(name=name, iterations=len(samples_ns), mean_ns=mean, cpu_ns=cpu_total_ns / len(samples_ns),
                p50_ns=pick(0.5), p99_ns=pick(0.99), rate=1e9 / mean, unit=unit, note=note)


def throughput(name: str, count: int, total_ns: int, cpu_ns: int, unit: str = "steps", note: str = "") -> dict:
    return dict(name=name, iterations=count, mean_ns=total_ns / count, cpu_ns=cpu_ns / count, p50_ns=None,
                p99_ns=None, rate=count / (total_ns / 1e9), unit=unit, note=note)


def time_each(items, call) -> tuple[list[int], int]:
    """Per-call wall samples (perf_counter_ns) and the loop's process CPU time (the machine may be shared)."""
    clock = time.perf_counter_ns
    samples = []
    cpu_start = time.process_time_ns()
    for item in items:
        start = clock()
        call(item)
        samples.append(clock() - start)
    return samples, time.process_time_ns() - cpu_start


# ---------------------------------------------------------------------------------------------------
# Detectors

def bench_check_step(name: str, steps: list[dict], derive: bool, note: str = "") -> dict:
    suite = DetectorSuite(RLWatchConfig())

    def call(s: dict):
        kwargs = {k: s[k] for k in DETECTOR_KEYS if k in s}
        if derive and "rewards" in kwargs:
            # What RLWatch.log_step does before check_step (the benchmarks' analyzer derives them too).
            r = kwargs["rewards"]
            kwargs["reward_mean"] = float(np.mean(r))
            kwargs["reward_std"] = float(np.std(r))
        suite.check_step(s["step"], **kwargs)

    for s in steps[:PRIMING]:
        call(s)
    return summarize(name, time_each(steps[PRIMING:], call), note=note)


# ---------------------------------------------------------------------------------------------------
# Storage

class QuietStderr:
    """Sends fd 2 to /dev/null (0.5.1 prints a rich panel per delivered alert) while timing."""

    def __enter__(self):
        sys.stderr.flush()
        self.saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)


def fresh_config(directory: str) -> RLWatchConfig:
    config = RLWatchConfig()
    config.run_id = "bench"
    config.framework = "manual"
    config.storage.log_dir = directory
    return config


def bench_log_step(steps: list[dict]) -> dict:
    directory = tempfile.mkdtemp(prefix="rlw051-logstep-")
    try:
        monitor = RLWatch(fresh_config(directory))
        call = lambda s: monitor.log_step(**s)  # noqa: E731
        with QuietStderr():
            for s in steps[:PRIMING]:
                call(s)
            samples = time_each(steps[PRIMING:], call)
        monitor._store.close()
        return summarize("log_step.sqlite", samples, note="detectors + INSERT + commit per step")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


TRL_MAP = {  # 0.5.1's TRL callback metric_map, first hit wins
    "entropy": ["entropy", "policy_entropy", "approx_entropy"],
    "kl_divergence": ["kl", "kl_divergence", "kl_penalty", "approx_kl"],
    "reward_mean": ["reward", "reward_mean", "rewards/mean", "env/reward_mean"],
    "reward_std": ["reward_std", "rewards/std", "env/reward_std"],
    "advantage_std": ["advantage_std", "advantages_std"],
    "loss": ["loss", "train_loss", "policy_loss"],
    "learning_rate": ["learning_rate", "lr"],
    "clip_fraction": ["clip_fraction", "clipfrac", "policy/clip_fraction"],
    "grad_norm": ["grad_norm", "gradient_norm", "grads/norm"],
}
MAPPED_KEYS = {c for cs in TRL_MAP.values() for c in cs}


def map_line(logs: dict) -> dict:
    metrics = {}
    for name, candidates in TRL_MAP.items():
        for candidate in candidates:
            if candidate in logs:
                metrics[name] = logs[candidate]
                break
    return metrics


def read_lines(path: str, count: int) -> list[str]:
    lines = []
    with open(path) as f:
        for line in f:
            lines.append(line)
            if len(lines) >= count:
                break
    return lines


def bench_log_metrics(lines: list[str]) -> dict:
    """MetricStore.log_metrics: the benchmarks' store rows (same file, extras kept), one commit per row."""
    rows = []
    for line in lines:
        logs = json.loads(line)
        step = logs.pop("step")
        metrics = map_line(logs)
        extras = {k: v for k, v in logs.items() if k not in MAPPED_KEYS}
        rows.append((step, metrics, extras))
    directory = tempfile.mkdtemp(prefix="rlw051-store-")
    try:
        store = MetricStore(fresh_config(directory))
        call = lambda row: store.log_metrics(row[0], **row[1], **row[2])  # noqa: E731
        for row in rows[:PRIMING]:
            call(row)
        samples = time_each(rows[PRIMING:], call)
        store.close()
        return summarize("log_metrics.commit1", samples, unit="rows", note="one INSERT + commit per row, 6 extras as JSON")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def bench_replay_equivalent(lines: list[str], with_store: bool) -> dict:
    """What `rlwatch replay` does, written with 0.5.1's API: parse, map TRL keys, judge (and store)."""
    clock = time.perf_counter_ns
    cpu = time.process_time_ns
    if with_store:
        directory = tempfile.mkdtemp(prefix="rlw051-replay-")
        monitor = RLWatch(fresh_config(directory))
        cpu_start = cpu()
        start = clock()
        with QuietStderr():
            for line in lines:
                logs = json.loads(line)
                step = logs.pop("step")
                extras = {k: v for k, v in logs.items() if k not in MAPPED_KEYS}
                monitor.log_step(step, **map_line(logs), **extras)
        total = clock() - start
        cpu_total = cpu() - cpu_start
        monitor._store.close()
        shutil.rmtree(directory, ignore_errors=True)
        return throughput("replay-equivalent.log_step", len(lines), total, cpu_total,
                          note="json.loads + map + log_step (commit per step)")
    suite = DetectorSuite(RLWatchConfig())
    cpu_start = cpu()
    start = clock()
    for line in lines:
        logs = json.loads(line)
        metrics = map_line(logs)
        metrics.pop("learning_rate", None)
        metrics.pop("clip_fraction", None)
        suite.check_step(logs["step"], **metrics)
    total = clock() - start
    return throughput("replay-equivalent.no-store", len(lines), total, cpu() - cpu_start,
                      note="json.loads + map + check_step")


# ---------------------------------------------------------------------------------------------------

def fmt_ns(ns):
    if ns is None:
        return "-"
    if ns < 1_000:
        return f"{ns:.0f} ns"
    if ns < 1_000_000:
        return f"{ns / 1_000:.{2 if ns < 10_000 else 1}f} µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.1f} ms"
    return f"{ns / 1e9:.2f} s"


def fmt_rate(r):
    if r >= 1e6:
        return f"{r / 1e6:.2f}M"
    if r >= 1e3:
        return f"{r / 1e3:.1f}k"
    return f"{r:.0f}"


def print_table(results: list[dict]):
    header = ["benchmark", "iterations", "mean (wall)", "mean (cpu)", "p50", "p99", "rate (wall)", "note"]
    rows = [[r["name"], str(r["iterations"]), fmt_ns(r["mean_ns"]), fmt_ns(r["cpu_ns"]), fmt_ns(r["p50_ns"]),
             fmt_ns(r["p99_ns"]),
             f"{fmt_rate(r['rate'])} {r['unit']}/s", r["note"]] for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("filters", nargs="*", help="run only benchmarks whose name contains one of these")
    parser.add_argument("--quick", action="store_true", help="a fifth of the iterations")
    parser.add_argument("--jsonl", default="/tmp/rlwatch-bench/replay-1000000.jsonl",
                        help="the TRL-like file the benchmarks generate (for the store and replay rows)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    scale = 0.2 if args.quick else 1.0
    n = lambda count: max(PRIMING + 10, int(count * scale))  # noqa: E731

    benches = [
        ("check_step.scalars", lambda: bench_check_step("check_step.scalars", scalar_steps(PRIMING + n(20_000)), derive=False)),
        ("check_step.rewards256.binary", lambda: bench_check_step(
            "check_step.rewards256.binary", binary_reward_steps(PRIMING + n(5_000)), derive=True,
            note="np.mean/np.std + check_step")),
        ("check_step.rewards256.binary.plain", lambda: bench_check_step(
            "check_step.rewards256.binary.plain", binary_reward_steps(PRIMING + n(5_000)), derive=False,
            note="check_step(rewards=array) only")),
        ("check_step.rewards256.continuous", lambda: bench_check_step(
            "check_step.rewards256.continuous", continuous_reward_steps(PRIMING + n(5_000)), derive=True,
            note="np.mean/np.std + check_step")),
        ("check_step.rewards256.continuous.plain", lambda: bench_check_step(
            "check_step.rewards256.continuous.plain", continuous_reward_steps(PRIMING + n(5_000)), derive=False,
            note="check_step(rewards=array) only")),
        ("log_step.sqlite", lambda: bench_log_step(scalar_steps(PRIMING + n(5_000)))),
        ("log_metrics.commit1", lambda: bench_log_metrics(read_lines(args.jsonl, PRIMING + n(20_000)))),
        ("replay-equivalent.no-store", lambda: bench_replay_equivalent(read_lines(args.jsonl, n(50_000)), False)),
        ("replay-equivalent.log_step", lambda: bench_replay_equivalent(read_lines(args.jsonl, n(10_000)), True)),
    ]
    selected = [(name, run) for name, run in benches if not args.filters or any(f in name for f in args.filters)]
    needs_file = any(name.startswith(("log_metrics", "replay")) for name, _ in selected)
    if needs_file and not os.path.exists(args.jsonl):
        sys.exit(f"{args.jsonl} is missing: run `swift package --package-path Benchmarks benchmark --filter replay.inprocess.parse-only` once to generate it")

    print(f"rlwatch {rlwatch.__version__}, Python {platform.python_version()}, numpy {np.__version__}", file=sys.stderr)
    results = []
    for name, run in selected:
        print(f"running {name}", file=sys.stderr)
        results.append(run())
    print_table(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
