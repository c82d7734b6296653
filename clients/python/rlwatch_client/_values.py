"""Turning whatever a training loop logs into JSON numbers.

Training code logs Python floats, but also numpy scalars and arrays, torch tensors (on the GPU, with
gradients), bools, nested dicts and the occasional string or None. The client must take all of it
without importing torch or numpy (they may not be installed, and importing them costs seconds), and
must never raise into the training loop: a value it cannot use is dropped with one warning per key.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from array import array
from collections.abc import Iterable, Mapping
from typing import Any, Callable, Dict, List, Optional, Tuple

log = logging.getLogger("rlwatch_client")

#: The key whose value is a list of per-sample rewards rather than one number.
REWARDS_KEY = "rewards"


class ValueCleaner:
    """Cleans one step's metrics into ``{key: int | float}`` plus ``rewards: [float]``.

    Keeps the set of keys it has already warned about, so a bad value logged on every step warns
    once, not once per step. Safe to share between threads.
    """

    def __init__(self) -> None:
        self._warned: set = set()
        self._lock = threading.Lock()

    def clean(self, metrics: Mapping) -> Dict[str, Any]:
        """Returns the usable metrics of one step; never raises.

        Nested mappings are flattened with ``/`` (``{"actor": {"entropy": 1}}`` becomes
        ``actor/entropy``), the way veRL and W&B name nested metrics. ``None`` means "not logged this
        step" (as in rlwatch 0.5.1) and is dropped silently; a key named ``step`` is dropped because
        the step number travels separately.
        """
        out: Dict[str, Any] = {}
        try:
            for key, value in metrics.items():
                self._put(out, str(key), value)
            out.pop("step", None)
        except Exception as error:  # a hostile Mapping or __float__; keep what we have
            self.warn_once(("clean", type(error)), f"rlwatch: could not read a logged metric ({error!r}); it was dropped")
        return out

    def clean_step(self, step: Any) -> Optional[int]:
        """Returns the step as an int, or None (with one warning) if it is not an integral number."""
        if type(step) is int:
            return step
        number = to_number(step)
        if number is not None and not isinstance(step, bool) and math.isfinite(number) and number == int(number):
            return int(number)
        self.warn_once(("step", type(step).__name__),
                       f"rlwatch: step {_describe(step)} is not an integer; steps like it are dropped (warned once)")
        return None

    def warn_once(self, token: Any, message: str) -> None:
        """Logs ``message`` at warning level the first time ``token`` is seen."""
        with self._lock:
            if token in self._warned:
                return
            self._warned.add(token)
        log.warning(message)

    def _put(self, out: Dict[str, Any], key: str, value: Any) -> None:
        kind = type(value)
        if kind is float or kind is int:
            out[key] = value
            return
        if value is None:
            return
        if key == REWARDS_KEY:
            rewards = to_number_list(value)
            if rewards is None:
                self.warn_once(key, f"rlwatch: 'rewards' must be a list/array of numbers, got {_describe(value)}; dropped")
            elif rewards:
                out[key] = rewards
            return
        number = to_number(value)
        if number is not None:
            out[key] = number
        elif isinstance(value, Mapping):
            for inner_key, inner_value in value.items():
                self._put(out, f"{key}/{inner_key}", inner_value)
        else:
            self.warn_once(key, f"rlwatch: metric {key!r} has a non-numeric value {_describe(value)}; dropped (warned once per key)")


def to_number(value: Any) -> Optional[float]:
    """Returns ``value`` as an int or float, or None if it is not one number.

    Duck-typed so that numpy and torch need not be imported: array-likes (numpy arrays, torch and
    jax tensors: anything with ``__len__``) go through ``.item()``, which takes exactly one element
    and works on GPU tensors; other numeric types (numpy scalars, bool, Decimal, Fraction) through
    ``float()``. Strings are not numbers here, even ``"1.5"``. How a type converts is worked out
    once per type and cached, which keeps numpy scalars well under a microsecond.
    """
    kind = type(value)
    if kind is float or kind is int:
        return value
    convert = _CONVERTERS.get(kind)
    if convert is None:
        convert = _converter_for(kind)
        _CONVERTERS[kind] = convert
    return convert(value)


def _converter_for(kind: type) -> Callable[[Any], Optional[float]]:
    if issubclass(kind, (str, bytes, bytearray)) or kind is type(None):
        return _not_a_number
    if hasattr(kind, "__len__"):
        return _via_item
    if hasattr(kind, "__float__"):
        return _via_float
    if hasattr(kind, "item"):
        return _via_item
    return _not_a_number


def _not_a_number(value: Any) -> None:
    return None


def _via_float(value: Any) -> Optional[float]:
    try:
        return float(value)
    except Exception:
        return None


def _via_item(value: Any) -> Optional[float]:
    try:
        scalar = value.item()
    except AttributeError:
        return None
    except Exception:
        scalar = _detached_item(value)
    kind = type(scalar)
    if kind is float or kind is int:
        return scalar
    if isinstance(scalar, (bool, int, float)):
        return float(scalar)
    return None


_CONVERTERS: Dict[type, Callable[[Any], Optional[float]]] = {}


def to_number_list(value: Any) -> Optional["array[float]"]:
    """Returns the numbers of a list, tuple, array or tensor (any nesting, flattened), or None.

    The result is a new ``array('d')``: a copy, so a buffer the caller reuses cannot change what
    was logged, built at C speed for a flat list, and invisible to the cyclic garbage collector
    (a queue of lists of floats makes every collection slower; a queue of arrays does not).
    """
    if isinstance(value, (list, tuple)):
        try:
            return array("d", value)  # flat lists of numbers
        except TypeError:
            pass  # nested, or holds something that is not a number
    elif isinstance(value, (str, bytes, bytearray, Mapping)):
        return None
    else:
        tolist = getattr(value, "tolist", None)
        if tolist is not None:
            try:
                value = tolist()
            except Exception:
                value = _detached_tolist(value)
                if value is None:
                    return None
            if not isinstance(value, list):  # a 0-d array or one-element tensor
                number = to_number(value)
                return None if number is None else array("d", (number,))
            try:
                return array("d", value)
            except TypeError:
                pass
        if not isinstance(value, Iterable):
            return None
    out = array("d")
    stack = [iter(value)]
    try:
        while stack:
            for element in stack[-1]:
                if isinstance(element, (list, tuple)):
                    stack.append(iter(element))
                    break
                number = to_number(element)
                if number is None:
                    return None
                out.append(float(number))
            else:
                stack.pop()
    except Exception:
        return None
    return out


def _detached_item(value: Any) -> Any:
    try:
        return value.detach().cpu().item()
    except Exception:
        return None


def _detached_tolist(value: Any) -> Any:
    try:
        return value.detach().cpu().tolist()
    except Exception:
        return None


def _describe(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        text = "<unprintable>"
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({type(value).__name__})"


def encode_step(step: int, metrics: Mapping) -> bytes:
    """One step as a compact strict-JSON line (with ``\\n``) in rlwatch's replay format.

    Non-finite floats become the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``: strict JSON
    has no token for them, and the server (and ``rlwatch replay``) read those strings as the numbers.
    """
    record = {"step": step}
    record.update(metrics)
    rewards = record.get(REWARDS_KEY)
    if type(rewards) is array:
        record[REWARDS_KEY] = rewards.tolist()
    try:
        text = json.dumps(record, allow_nan=False, separators=(",", ":"))
    except ValueError:
        text = json.dumps(_finite(record), allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_finite(inner) for inner in value]
    return value


def merge_same_steps(entries: List[Tuple[int, Dict[str, Any]]]) -> List[Tuple[int, Dict[str, Any]]]:
    """Merges adjacent entries that carry the same step number (later values win).

    Training loops often log one step in several calls (losses after the backward pass, rewards
    after the rollout). The server reads a step number that does not increase as a restart of the
    run, so two rows for one step would split the run in two.
    """
    merged: List[Tuple[int, Dict[str, Any]]] = []
    for step, metrics in entries:
        if merged and merged[-1][0] == step:
            combined = dict(merged[-1][1])
            combined.update(metrics)
            merged[-1] = (step, combined)
        else:
            merged.append((step, metrics))
    return merged
