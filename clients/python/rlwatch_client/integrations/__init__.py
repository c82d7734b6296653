"""Adapters for TRL, veRL and OpenRLHF.

Each module imports its framework only when it is itself imported, so ``import rlwatch_client``
never pulls in transformers or verl. The adapters send keys exactly as the framework logged them;
the server maps ``kl``, ``actor/entropy``, ``train/…`` and the rest to its metrics.
"""
