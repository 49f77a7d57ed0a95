"""The integrations' exceptions.

- ``IntegrationConfigError`` (a ``ValueError``): an option cannot be used; one line naming it,
  e.g. ``qos: must be an integer 0..2, got 3``. The API answers it with HTTP 400.
- ``DownlinkCommandError`` (a ``ValueError``): a command from a broker is refused; the line
  says why and ``reason`` is a short label for the metrics.
- ``OutboxError``: the outbox file cannot be opened or used (names the file and the reason).
"""

from __future__ import annotations


class IntegrationConfigError(ValueError):
    """An integration option cannot be used; the message names it."""


class DownlinkCommandError(ValueError):
    """A downlink command is malformed or does not match its topic."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # snake_case, a Prometheus label value


class OutboxError(Exception):
    """The outbox's SQLite file cannot be used."""
