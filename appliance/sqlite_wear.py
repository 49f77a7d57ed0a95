"""SQLite settings every database of the appliance shares to spare the storage.

Debian's SQLite (and so Raspberry Pi OS's) is built with ``SECURE_DELETE`` on: every deleted
row's bytes are overwritten with zeros, and every page a deletion frees is written once more
just to clear it. The event log's retention and the outbox's deliveries delete all the time,
so that doubled what they wrote. ``FAST`` still clears deleted content in the pages a change
writes anyway, without writing any page for that alone.
"""

from __future__ import annotations

from typing import Final

SECURE_DELETE_FAST: Final = "PRAGMA secure_delete=FAST"
