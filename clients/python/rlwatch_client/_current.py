"""The process's global monitor as the adapters see it, without importing the module-level API.

``_api.attach`` makes a monitor the global one here and installs itself as the implicit ``attach``; the adapters
(``integrations/*``) read both through this module. So imports run one way: ``_api`` → ``_monitor``/``_current``,
``integrations`` → ``_monitor``/``_current``/``_actions``, and nothing imports ``_api`` or the adapters back
(``Monitor`` gets its adapters from a factory ``_api`` passes it).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from ._values import ValueCleaner

#: The global monitor (the last ``attach()``), or None.
monitor: Optional[Any] = None
#: ``_api.attach``, for an adapter that attaches implicitly; None until the API module is loaded.
attach: Optional[Callable[..., Any]] = None
#: One warning per kind for what happens while nothing is attached.
warnings = ValueCleaner()


def warn_unattached() -> None:
    """The one warning about steps logged while nothing is attached."""
    warnings.warn_once("unattached", "rlwatch: a step was logged before rlwatch.attach(); "
                                     "steps are dropped until attach() is called (warned once)")
