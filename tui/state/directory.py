"""Who a log item is about. Frames of data uplinks carry only a DevAddr; the events the
appliance sends with them carry the DevEUI too, so the directory learns DevAddr -> DevEUI
from the stream itself and device names from the device list."""

from __future__ import annotations

from collections.abc import Iterable

from tui.client.stream_items import EventItem, FrameItem

MAX_ADDRESSES = 100_000  # a bound, not a limit anyone should meet


class Directory:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}  # DevEUI -> name
        self.addresses: dict[str, str] = {}  # DevAddr -> DevEUI

    def learn(self, items: Iterable[FrameItem | EventItem]) -> None:
        for item in items:
            if isinstance(item, EventItem) and item.dev_eui:
                if item.dev_addr:
                    if len(self.addresses) >= MAX_ADDRESSES:
                        self.addresses.clear()
                    self.addresses[item.dev_addr] = item.dev_eui
                if item.device_name:
                    self.names[item.dev_eui] = item.device_name

    def dev_eui_of(self, item: FrameItem | EventItem) -> str | None:
        if item.dev_eui:
            return item.dev_eui
        return self.addresses.get(item.dev_addr or "")

    def name_of(self, item: FrameItem | EventItem) -> str:
        """The device's name, else its DevEUI, else ''."""
        eui = self.dev_eui_of(item)
        if isinstance(item, EventItem) and item.device_name:
            return item.device_name
        return self.names.get(eui or "", "") or eui or ""
