"""Errors a CLI command raises to end with a one-line message and exit code 2."""

from __future__ import annotations


class CLIUsageError(Exception):
    """The user's input is unusable; ``main`` prints ``appliance: error: <message>`` and exits 2."""
