"""When the store handed out each device's session and when it last activated the device, so
that an activation wins over a session handed out before it.

Data uplinks are serialised per DevAddr, joins and ABP activations per DevEUI: a join (or an
activation through the API) can store a device's new session while an uplink under the old
one is still being processed. Saved afterwards, the old session would replace the new one,
and the device, holding the new keys, would be locked out until it joined again. So handing a
session out notes the activation count, an activation notes the count it made, and a save
whose device was activated after its latest handout is refused.

"Latest" is per device: a session handed out under the new DevAddr before the old uplink comes
back would let that old one through. The new session is in use only once the device has the
join-accept (5 s or more after the join-request) or has been reprogrammed, and an uplink's
processing takes well under a second, so the case is left open.

Both maps keep the ``limit`` devices handed out or activated last (handouts that are never
saved back, as for the other devices sharing an uplink's DevAddr, would pile up otherwise):
with the default of 10,240 that is about 10 s of uplinks at 1,000/s, far longer than one takes.
A save whose handout was forgotten is allowed, as before this check existed.
"""

from __future__ import annotations

from appliance.ns.sqlite_rows import Bounded


class Handouts:
    def __init__(self, limit: int) -> None:
        self._activations = 0
        # DevEUI -> the activations counted at its latest handout
        self._handed_at: Bounded[str, int] = Bounded(limit)
        # DevEUI -> the count its latest activation made
        self._activated_at: Bounded[str, int] = Bounded(limit)

    def handed(self, dev_eui: str) -> None:
        self._handed_at.put(dev_eui, self._activations)

    def activated(self, dev_eui: str) -> None:
        self._activations += 1
        self._activated_at.put(dev_eui, self._activations)

    def may_save(self, dev_eui: str) -> bool:
        """Whether the device's session as last handed out may be saved (an uplink saves it
        up to three times): not once the device has been activated since."""
        handed = self._handed_at.get(dev_eui)
        return handed is None or (self._activated_at.get(dev_eui) or 0) <= handed
