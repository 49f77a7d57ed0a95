"""The exceptions of the application events, in one place.

    EventError
    ├── EventBuildError (also ValueError)  an input cannot become a ChirpStack event:
    │                                      a decoded object that is not JSON, a time out of range
    ├── EventLogError                      the event/frame log file cannot be opened or written
    └── SubscriberLimitError               the live stream has no room for another subscriber

A build error is the caller's input (often a codec's output); a log error names the file and
what the operating system or SQLite said about it.
"""

from __future__ import annotations


class EventError(Exception):
    """Base of every error raised by ``appliance.app.events``."""


class EventBuildError(EventError, ValueError):
    """A value cannot be put into a ChirpStack integration or stream message."""


class EventLogError(EventError):
    """The event log's SQLite file cannot be used (the message says which file and why)."""


class SubscriberLimitError(EventError):
    """The live stream has as many subscribers as it accepts."""
