#!/usr/bin/env python3
"""Replay the real-run corpus through the ORIGINAL Python rlwatch 0.5.1 and print its delivered alerts as JSONL.

Setup (once):
    python3 -m venv /tmp/rlw051 && /tmp/rlw051/bin/pip install rlwatch==0.5.1 pyyaml
Run (from the repository root):
    /tmp/rlw051/bin/python scripts/eval_rlwatch051.py Tests/Fixtures/RealRuns > /tmp/alerts051.jsonl
    .build/debug/rlwatch eval Tests/Fixtures/RealRuns --alerts /tmp/alerts051.jsonl

Output: one `{"run": ID, "step": N, "detector": NAME, "severity": "warning"|"critical"}` line per alert that
0.5.1 DELIVERED (i.e. that passed its AlertManager and was persisted), for every manifest run, in manifest
order then step order. Per-run read counts go to standard error.

How 0.5.1 is driven
-------------------
* Config: `RLWatchConfig()` -- the shipped defaults, untouched (no rlwatch.yaml, no RLWATCH_* environment
  variables are read), except `run_id` (the manifest id) and `storage.log_dir` (a throwaway temp directory for
  its SQLite DB). All alert channels stay disabled (the default), so nothing touches the network. One fresh
  `rlwatch.core.RLWatch` monitor per corpus run, so detector state, cooldown (100 steps per (detector,
  severity)) and the 50-alert run cap are exactly what 0.5.1 ships. The alerts are read back from the
  monitor's own store (`store.get_alerts`), i.e. only the alerts `AlertManager.send` let through. The Rich
  console panels 0.5.1 prints for each delivered alert are swallowed unless `--verbose`.
* `pip install rlwatch==0.5.1` does not install the optional `diptest` package, so the reward_hacking bimodal
  check uses 0.5.1's fallback dip test (what a default install gives). No corpus log carries per-sample reward
  arrays (and no 0.5.1 adapter maps `rewards`), so the reward_hacking dip test never runs here anyway.
* Key handling, per manifest `framework`:
  - `trl`, `unsloth` (Unsloth trains with TRL's GRPOTrainer): 0.5.1's own TRL callback class, built by
    `rlwatch.core._build_trl_callback(monitor)`, called as the Trainer would call it:
    `callback.on_log(args, state, control, logs=<row>)` with `state.global_step = <step>`. `transformers` is
    not installed in the venv, so a stub module providing an empty `TrainerCallback` base class is put in
    `sys.modules` first (the callback only subclasses it). The callback's own metric_map (first hit wins,
    raw values) decides what is fed.
  - `verl`: 0.5.1's `rlwatch.integrations.verl_tracking.RLWatchVerLTracker(monitor).log(data=<row>, step=<step>)`
    (what veRL's Tracking would call once the tracker is registered as a backend).
  - `openrlhf`: 0.5.1's `RLWatchOpenRLHFLogger(monitor).log_train(<step>, <row>)` (no corpus run uses it).
  - anything else (`custom`, `tinker`, ...): 0.5.1 has no adapter, so a user calls
    `monitor.log_step(step, **kwargs)` by hand: every logged key whose name IS a `log_step` keyword
    (entropy, kl_divergence, reward_mean, reward_std, advantage_std, loss, learning_rate, clip_fraction,
    grad_norm) is passed, plus the manifest's `keys:` renames. Nothing else is guessed (e.g. cs336's
    `approx_kl` is not fed as kl_divergence: the manifest does not map it and 0.5.1 has no adapter for
    custom loops). `--manual-aliases` instead feeds custom rows through the TRL callback's alias list
    (a generous reading; not the default). Steps whose row yields no metric are not logged (as the
    adapters do).
  - The manifest's `keys:` mapping (logged key -> rlwatch metric, null = ignore) is applied to the row BEFORE
    the adapter sees it, as the user of 0.5.1 would have to do (0.5.1 has no `metrics.keys` option): a mapped
    key is renamed to the target name (which every 0.5.1 adapter accepts as a candidate for that field), a
    key mapped to null is removed. Targets with no 0.5.1 field (`completions/mean_length`,
    `completions/clipped_ratio`, `frac_reward_zero_std`) are renamed too but nothing consumes them. If a row
    also holds a key the adapter would prefer for the same field, the adapter's first-hit order still
    decides (a warning is printed; no corpus run has such a conflict).
* Row semantics (same as the Swift corpus loader): JSONL rows, numbers at top level or one object down
  (`data`, `metrics`, ...), blank and `#` lines skipped, bare NaN/Infinity accepted; `select.lines` = 1-based
  inclusive file line range (a CSV's header is always read); `select.where` = rows whose key equals the
  value (string compare, or number compare for a numeric value); `select.step_key` = the step key (default
  `step`); consecutive rows with the same step merged into one step (later values win); CSV with a header
  row (empty cells = not logged); `trainer_state.json` -> the `log_history` entries that are training logs
  (entries whose numeric keys are only epoch/total_flos/train_runtime/train_samples_per_second/
  train_steps_per_second/train_loss, or start with `eval_`/`test_`, are skipped; entries are not merged).
  Values are numbers or strings spelling NaN/Inf; booleans and other strings are ignored.

Only the standard library, PyYAML and rlwatch 0.5.1 (with its numpy) are used.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import glob
import io
import json
import math
import os
import re
import sys
import tempfile
import types

import yaml

# 0.5.1's TRL callback subclasses transformers.TrainerCallback; the venv has no transformers, and the callback
# uses nothing from it, so an empty base class stands in.
try:  # pragma: no cover - depends on the venv
    import transformers  # noqa: F401
except ImportError:
    _stub = types.ModuleType("transformers")

    class TrainerCallback:  # noqa: D401 - stand-in
        """Stand-in for transformers.TrainerCallback (0.5.1's callback only subclasses it)."""

    _stub.TrainerCallback = TrainerCallback
    sys.modules["transformers"] = _stub

import rlwatch  # noqa: E402
from rlwatch.config import RLWatchConfig  # noqa: E402
from rlwatch.core import RLWatch, _build_trl_callback  # noqa: E402
from rlwatch.integrations.openrlhf_logger import RLWatchOpenRLHFLogger  # noqa: E402
from rlwatch.integrations.openrlhf_logger import _METRIC_MAP as OPENRLHF_MAP  # noqa: E402
from rlwatch.integrations.verl_tracking import RLWatchVerLTracker  # noqa: E402
from rlwatch.integrations.verl_tracking import _METRIC_MAP as VERL_MAP  # noqa: E402

LOG_STEP_KWARGS = (
    "entropy", "kl_divergence", "reward_mean", "reward_std", "advantage_std",
    "loss", "learning_rate", "clip_fraction", "grad_norm",
)
NON_TRAINING_KEYS = {
    "epoch", "total_flos", "train_runtime", "train_samples_per_second", "train_steps_per_second", "train_loss",
}
_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class LoadError(Exception):
    pass


# ----------------------------------------------------------------------------------------------------------
# Values


def non_finite(text):
    return {"nan": math.nan, "+nan": math.nan, "-nan": math.nan,
            "inf": math.inf, "+inf": math.inf, "infinity": math.inf, "+infinity": math.inf,
            "-inf": -math.inf, "-infinity": -math.inf}.get(text.lower())


def number(value):
    """A metric value as float, or None (null, booleans, other strings, containers)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return non_finite(value)
    return None


def integer(value):
    n = number(value)
    if n is None and isinstance(value, str) and _DECIMAL.match(value.strip()):
        n = float(value)
    if n is None or not math.isfinite(n) or n != math.floor(n) or abs(n) >= 9.2e18:
        return None
    return int(n)


def format_number(value):
    """How the Swift loader spells a number for a string compare (integral values without a fraction)."""
    if math.isfinite(value) and value == math.floor(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


# ----------------------------------------------------------------------------------------------------------
# Loading


def collect(row, step_key):
    values = {}
    for key, value in row.items():
        if key == step_key or key == "rewards":
            continue  # per-sample rewards: no 0.5.1 adapter maps them, and no corpus log has them
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                n = number(inner_value)
                if n is not None:
                    values[inner] = n
        else:
            n = number(value)
            if n is not None:
                values[key] = n
    return values


def selects(row, where):
    for key, expected in (where or {}).items():
        if key not in row:
            return False
        value = row[key]
        if isinstance(expected, (int, float)) and not isinstance(expected, bool):
            n = number(value)
            if n is None or n != float(expected):
                return False
        else:
            text = str(expected)
            n = number(value)
            if not (isinstance(value, str) and value == text) and not (n is not None and format_number(n) == text):
                return False
    return True


def jsonl_rows(path, lines):
    rows = []
    with open(path, encoding="utf-8-sig") as handle:
        for number_, raw in enumerate(handle.read().splitlines(), start=1):
            if lines and not (lines[0] <= number_ <= lines[1]):
                continue
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                row = json.loads(line)  # Python's json accepts bare NaN / Infinity / -Infinity
            except ValueError as error:
                raise LoadError(f"{path}:{number_}: not JSON ({error})")
            if not isinstance(row, dict):
                raise LoadError(f"{path}:{number_}: not a JSON object")
            rows.append((number_, row))
    return rows


def csv_cell(cell):
    if _DECIMAL.match(cell):
        return float(cell)
    nf = non_finite(cell)
    return nf if nf is not None else cell


def csv_rows(path, lines):
    rows = []
    header = None
    with open(path, encoding="utf-8-sig", newline="") as handle:
        text = handle.read()
    for number_, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        cells = [c.strip() for c in next(csv.reader([raw]))]
        if header is None:
            header = cells
            continue
        if lines and not (lines[0] <= number_ <= lines[1]):
            continue
        if len(cells) != len(header):
            raise LoadError(f"{path}:{number_}: {len(cells)} cells, the header has {len(header)}")
        rows.append((number_, {name: csv_cell(cell) for name, cell in zip(header, cells) if cell != ""}))
    return rows


def selected_steps(path, fmt, select):
    select = select or {}
    lines = select.get("lines")
    where = select.get("where")
    step_key = select.get("step_key", "step")
    rows = jsonl_rows(path, lines) if fmt == "jsonl" else csv_rows(path, lines)
    steps = []
    for line, row in rows:
        if not selects(row, where):
            continue
        step = integer(row.get(step_key))
        if step is None:
            raise LoadError(f'{path}:{line}: no integer "{step_key}" in a selected row')
        values = collect(row, step_key)
        if steps and steps[-1][0] == step:
            steps[-1][1].update(values)  # consecutive rows of one step: later values win
        else:
            steps.append((step, values))
    return steps


def trainer_state_steps(path):
    with open(path, encoding="utf-8-sig") as handle:
        document = json.load(handle)  # accepts bare NaN / Infinity
    history = document.get("log_history") if isinstance(document, dict) else None
    if not isinstance(history, list):
        raise LoadError(f"{path}: no log_history array")
    steps = []
    for index, entry in enumerate(history):
        if not isinstance(entry, dict):
            raise LoadError(f"{path}: log_history[{index}] is not an object")
        step = integer(entry.get("step"))
        if step is None:
            raise LoadError(f"{path}: log_history[{index}] has no integer step")
        values = {}
        training = False
        for key, value in entry.items():
            if key == "step":
                continue
            n = number(value)
            if n is None:
                continue
            values[key] = n
            if key not in NON_TRAINING_KEYS and not key.startswith(("eval_", "test_")):
                training = True
        if training:
            steps.append((step, values))
    return steps


def guess_format(relative):
    if relative.endswith(".csv"):
        return "csv"
    if relative.endswith("trainer_state.json"):
        return "trainer-state"
    return "jsonl"


def load_steps(corpus, run):
    path = os.path.join(corpus, run["file"])
    fmt = run.get("format") or guess_format(run["file"])
    if fmt == "trainer-state":
        return trainer_state_steps(path)
    if fmt in ("jsonl", "csv"):
        return selected_steps(path, fmt, run.get("select"))
    raise LoadError(f"{run['id']}: unknown format {fmt!r}")


def manifest_runs(corpus):
    runs = []
    for name in sorted(glob.glob(os.path.join(corpus, "manifest.d", "*.yaml"))):
        with open(name, encoding="utf-8") as handle:
            runs.extend(yaml.safe_load(handle) or [])
    return runs


# ----------------------------------------------------------------------------------------------------------
# Feeding 0.5.1


# 0.5.1's TRL callback metric map (a local of rlwatch.core, so not importable from the package): the benchmark
# script holds the one copy. Used only to warn about a conflict and for --manual-aliases.
from bench_rlwatch_051 import TRL_MAP as TRL_CANDIDATES  # noqa: E402


def apply_user_keys(values, keys):
    """The manifest's keys: logged key -> rlwatch metric (rename) or None (drop)."""
    if not keys:
        return values
    out = dict(values)
    for logged, target in keys.items():
        if logged not in values:
            continue
        value = out.pop(logged)
        if target is not None:
            out[target] = value
    return out


def adapter_for(framework, monitor, manual_aliases):
    """A function (step, row) -> None that feeds one row the way a 0.5.1 user of that framework would."""
    framework = (framework or "").lower()
    if framework in ("trl", "unsloth") or (manual_aliases and framework not in ("verl", "openrlhf")):
        callback = _build_trl_callback(monitor)()
        args, control = types.SimpleNamespace(), types.SimpleNamespace()
        return (lambda step, row: callback.on_log(args, types.SimpleNamespace(global_step=step), control, logs=row)), TRL_CANDIDATES
    if framework == "verl":
        tracker = RLWatchVerLTracker(monitor)
        return (lambda step, row: tracker.log(data=row, step=step)), VERL_MAP
    if framework == "openrlhf":
        logger = RLWatchOpenRLHFLogger(monitor)
        return (lambda step, row: logger.log_train(step, row)), OPENRLHF_MAP

    def manual(step, row):
        kwargs = {name: row[name] for name in LOG_STEP_KWARGS if name in row}
        if kwargs:
            monitor.log_step(step, **kwargs)

    return manual, {name: [name] for name in LOG_STEP_KWARGS}


def replay(run, steps, log_dir, manual_aliases, verbose):
    config = RLWatchConfig()  # the shipped defaults
    config.run_id = run["id"]
    config.storage.log_dir = log_dir
    alerts_cfg = config.alerts
    assert not (alerts_cfg.slack.enabled or alerts_cfg.email.enabled or alerts_cfg.discord.enabled
                or alerts_cfg.webhook.enabled), "alert channels must be off"
    monitor = RLWatch(config)
    monitor.start()
    feed, candidates = adapter_for(run.get("framework"), monitor, manual_aliases)
    keys = run.get("keys") or {}
    for target in {t for t in keys.values() if t is not None}:
        preferred = [c for c in candidates.get(target, []) if c != target]
        if preferred and any(any(c in values for c in preferred) and any(k in values for k in keys if keys[k] == target)
                             for _, values in steps):
            print(f"warning: {run['id']}: a row holds both a key mapped to {target} and an adapter candidate "
                  f"for it; the adapter's order decides", file=sys.stderr)
    sink = contextlib.nullcontext() if verbose else contextlib.redirect_stderr(io.StringIO())
    with sink:
        for step, values in steps:
            feed(step, apply_user_keys(values, keys))
    stored = monitor.store.get_alerts(run["id"])
    rows = monitor.store.get_metrics(run["id"])
    monitor.stop()
    stored.sort(key=lambda a: (a["step"], a["id"]))
    return stored, len(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("corpus", help="corpus directory (holds manifest.d/ and logs/)")
    parser.add_argument("--run", action="append", help="only these run ids (repeatable)")
    parser.add_argument("--manual-aliases", action="store_true",
                        help="feed custom-framework rows through 0.5.1's TRL alias list instead of exact log_step names")
    parser.add_argument("--verbose", action="store_true", help="let 0.5.1's console alert panels through to stderr")
    options = parser.parse_args(argv)

    print(f"rlwatch {rlwatch.__version__} from {os.path.dirname(rlwatch.__file__)}", file=sys.stderr)
    runs = manifest_runs(options.corpus)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="rlwatch051-") as log_dir:
        for run in runs:
            if options.run and run["id"] not in options.run:
                continue
            try:
                steps = load_steps(options.corpus, run)
            except (OSError, LoadError, ValueError) as error:
                print(f"error: {run['id']}: {error}", file=sys.stderr)
                failures += 1
                continue
            alerts, logged = replay(run, steps, log_dir, options.manual_aliases, options.verbose)
            for alert in alerts:
                print(json.dumps({"run": run["id"], "step": alert["step"], "detector": alert["detector"],
                                  "severity": alert["severity"]}))
            print(f"{run['id']}: {len(steps)} steps read, {logged} logged to 0.5.1, {len(alerts)} alerts delivered",
                  file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
