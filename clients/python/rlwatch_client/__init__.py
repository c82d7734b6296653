"""rlwatch client: stream GRPO/PPO training metrics to an rlwatch server.

    import rlwatch_client as rlwatch
    rlwatch.attach()                       # RLWATCH_URL, else a local `rlwatch serve`, else a spool file
    for step in ...:
        rlwatch.log_step(step, entropy=..., kl=..., reward_mean=..., rewards=per_sample_rewards)

Standard library only. ``log_step`` only enqueues; a daemon thread batches steps to the server,
spools them to disk while the server is unreachable, and prints the alerts the server returns.

Framework adapters (imported lazily, so transformers/verl are never imported by this module):
``RLWatchTRLCallback``, ``RLWatchVerlBackend`` / ``install_verl``, ``RLWatchOpenRLHFLogger`` /
``install_openrlhf``.
"""

from ._actions import RLWatchStopTraining
from ._api import attach, detect_framework, flush, get_monitor, log_step, stop
from ._monitor import Monitor
from ._shipper import ConfigError
from ._version import __version__

__all__ = [
    "attach",
    "log_step",
    "stop",
    "flush",
    "get_monitor",
    "detect_framework",
    "Monitor",
    "ConfigError",
    "RLWatchStopTraining",
    "RLWatchTRLCallback",
    "RLWatchVerlBackend",
    "RLWatchVerLTracker",
    "install_verl",
    "RLWatchOpenRLHFLogger",
    "install_openrlhf",
    "__version__",
]

_LAZY = {
    "RLWatchTRLCallback": "trl",
    "RLWatchVerlBackend": "verl",
    "RLWatchVerLTracker": "verl",
    "install_verl": "verl",
    "RLWatchOpenRLHFLogger": "openrlhf",
    "install_openrlhf": "openrlhf",
}


def __getattr__(name: str):
    """Imports an adapter module on first use (PEP 562), keeping ``import rlwatch_client`` light."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rlwatch_client' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".integrations.{module}", __name__), name)
    globals()[name] = value
    return value
