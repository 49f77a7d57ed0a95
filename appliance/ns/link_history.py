"""The link quality of a device's last uplinks, what the ADR algorithm looks back over, packed.

A session cached in memory keeps its history as long as it stays there, and a network server
caches thousands of sessions: twenty entries as Python objects take about 3 KB, packed they
take 200 bytes. The packed form is also what the stored session holds
(``DeviceSession.to_record``), so saving a session copies bytes instead of encoding twenty
entries, and reading one does not build them.

Every radio reports SNR in steps of 0.25 dB (SX130x) or 0.1 dB (the Semtech UDP forwarder's
one decimal), which steps of 1/20 dB hold exactly. An entry the packed form cannot hold (any
other SNR, an RSSI beyond 16 bits, more than 255 gateways) turns the history into a plain list
of entries, as correct and only bigger, until it is cleared.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from typing import Final, NamedTuple, overload


class UplinkHistoryEntry(NamedTuple):
    """Link quality of one uplink, as the ADR algorithm needs it."""

    f_cnt: int
    max_snr: float
    max_rssi: int
    tx_power_index: int
    gateway_count: int


# FCnt, SNR in 1/20 dB, RSSI, TX power index, gateway count.
_PACKED: Final = struct.Struct("<IhhBB")
_F_CNT: Final = struct.Struct("<I")
ENTRY_SIZE: Final = _PACKED.size
_SNR_STEPS: Final = 20


def _pack(entry: UplinkHistoryEntry) -> bytes | None:
    """The packed form of ``entry``, or None when it would not come back equal."""
    f_cnt, snr, rssi, tx_power_index, gateway_count = entry
    try:
        steps = round(snr * _SNR_STEPS)
        if steps / _SNR_STEPS != snr:
            return None
        return _PACKED.pack(f_cnt, steps, rssi, tx_power_index, gateway_count)
    except (struct.error, TypeError, ValueError, OverflowError):
        return None


class UplinkHistory(Sequence[UplinkHistoryEntry]):
    """A list of ``UplinkHistoryEntry``, oldest first: packed bytes, or a plain list when an
    entry does not fit the packed form."""

    __slots__ = ("_items", "_packed")

    def __init__(self, entries: Iterable[UplinkHistoryEntry] = ()) -> None:
        self._packed: bytes | None = b""
        self._items: list[UplinkHistoryEntry] | None = None
        for entry in entries:
            self.append(entry)

    @classmethod
    def from_packed(cls, packed: bytes) -> UplinkHistory:
        """The history whose ``packed`` form this is (``ValueError`` if it cannot be)."""
        if len(packed) % ENTRY_SIZE:
            raise ValueError(f"a packed uplink history of {len(packed)} bytes")
        history = cls.__new__(cls)
        history._packed = bytes(packed)
        history._items = None
        return history

    @classmethod
    def of(cls, entries: Iterable[UplinkHistoryEntry]) -> UplinkHistory:
        """``entries`` itself when it is a history already, else a history holding them."""
        return entries if isinstance(entries, UplinkHistory) else cls(entries)

    @property
    def packed(self) -> bytes | None:
        """The packed entries (``ENTRY_SIZE`` bytes each), None when held as a list."""
        return self._packed

    def _entries(self) -> list[UplinkHistoryEntry]:
        if self._items is not None:
            return self._items
        assert self._packed is not None
        return [
            UplinkHistoryEntry(f_cnt, steps / _SNR_STEPS, rssi, tx_power_index, gateway_count)
            for f_cnt, steps, rssi, tx_power_index, gateway_count in _PACKED.iter_unpack(
                self._packed
            )
        ]

    def add(self, entry: UplinkHistoryEntry, keep: int) -> None:
        """Append ``entry`` unless the newest one has its FCnt (a retransmission carries no
        new information), keeping the newest ``keep`` entries."""
        packed = self._packed
        if packed is not None:
            if packed and _F_CNT.unpack_from(packed, len(packed) - ENTRY_SIZE)[0] == entry.f_cnt:
                return
            new = _pack(entry)
            if new is not None:
                self._packed = (packed + new)[-keep * ENTRY_SIZE :]
                return
            self._items, self._packed = self._entries(), None
        items = self._items
        assert items is not None
        if items and items[-1].f_cnt == entry.f_cnt:
            return
        items.append(entry)
        del items[:-keep]

    def append(self, entry: UplinkHistoryEntry) -> None:
        if self._packed is not None:
            new = _pack(entry)
            if new is not None:
                self._packed += new
                return
            self._items, self._packed = self._entries(), None
        assert self._items is not None
        self._items.append(entry)

    def clear(self) -> None:
        self._packed, self._items = b"", None

    def __len__(self) -> int:
        if self._packed is not None:
            return len(self._packed) // ENTRY_SIZE
        assert self._items is not None
        return len(self._items)

    def __iter__(self) -> Iterator[UplinkHistoryEntry]:
        return iter(self._entries())

    @overload
    def __getitem__(self, index: int) -> UplinkHistoryEntry: ...

    @overload
    def __getitem__(self, index: slice) -> list[UplinkHistoryEntry]: ...

    def __getitem__(self, index: int | slice) -> UplinkHistoryEntry | list[UplinkHistoryEntry]:
        return self._entries()[index]

    def __delitem__(self, index: int | slice) -> None:
        entries = self._entries()
        del entries[index]
        self.clear()
        for entry in entries:
            self.append(entry)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, UplinkHistory | list | tuple):
            return self._entries() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like the list it stands for

    def __repr__(self) -> str:
        return f"UplinkHistory({self._entries()!r})"
