"""SPI traces in the reference format, and how a driver's trace is compared with one.

One line per frame: ``W addr len bytes`` (write), ``R addr len -> bytes`` (read),
``RADIOA``/``RADIOB opcode args -> answer``, ``I2C addr R reg -> value`` / ``I2C addr W reg
value``, ``# note``. MCU program memory bytes are replaced by ``<AGC firmware bytes>`` /
``<ARB firmware bytes>``.

The comparison counts the reference's register writes (address and value, bursts split into
bytes, each firmware chunk one item) that the produced trace also makes, and checks the
writes whose order matters - MCU control and program memory, AGC mailboxes, ARB debug
registers, the TX buffer and triggers, the GPIO that signals "started" - come in the
reference's order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

AGC_PLACEHOLDER: Final = "<AGC firmware bytes>"
ARB_PLACEHOLDER: Final = "<ARB firmware bytes>"

# Addresses whose writes must keep the reference's relative order.
_ORDERED_RANGES: Final = (
    (0x0000, 0x4000),  # MCU program memories
    (0x5200, 0x5201),  # TX triggers A
    (0x5207, 0x5208),  # TX write-buffer flag A
    (0x5300, 0x5400),  # TX buffer A
    (0x5400, 0x5401),
    (0x5407, 0x5408),
    (0x5500, 0x5600),
    (0x5600, 0x5601),  # page select
    (0x5643, 0x5644),  # GPIO out ("config done")
    (0x5780, 0x5781),  # AGC MCU control
    (0x5789, 0x578D),  # AGC mailboxes
    (0x6080, 0x6081),  # ARB MCU control
    (0x6089, 0x608D),  # ARB debug configuration
)


def _hex(data: bytes) -> str:
    return " ".join(f"{b:02X}" for b in data)


def _memory_placeholder(address: int) -> str | None:
    if address < 0x2000:
        return AGC_PLACEHOLDER
    if address < 0x4000:
        return ARB_PLACEHOLDER
    return None


def format_write(address: int, data: bytes) -> str:
    body = _memory_placeholder(address) or _hex(data)
    return f"W {address:04X} {len(data)} {body}"


def format_read(address: int, data: bytes) -> str:
    body = _memory_placeholder(address) or _hex(data)
    return f"R {address:04X} {len(data)} -> {body}"


def format_radio(label: str, command: bytes, answer: bytes) -> str:
    return f"RADIO{label} {_hex(command)} -> {_hex(answer)}"


def format_i2c_read(address: int, register: int, value: int) -> str:
    return f"I2C {address:02X} R {register:02X} -> {value:02X}"


def format_i2c_write(address: int, register: int, value: int) -> str:
    return f"I2C {address:02X} W {register:02X} {value:02X}"


WriteItem = tuple[int, int | str]  # (address, byte value or firmware placeholder)


@dataclass(frozen=True, slots=True)
class Trace:
    writes: tuple[tuple[WriteItem, int], ...]  # (item, line number)
    radio: tuple[str, ...]
    i2c: tuple[str, ...]

    @classmethod
    def parse(cls, lines: Iterable[str]) -> Trace:
        writes: list[tuple[WriteItem, int]] = []
        radio: list[str] = []
        i2c: list[str] = []
        for number, raw in enumerate(lines, 1):
            line = raw.strip()
            if line.startswith("W "):
                _, address_text, size_text, body = line.split(" ", 3)
                address = int(address_text, 16)
                if body.startswith("<"):
                    writes.append(((address, f"{body}/{size_text}"), number))
                else:
                    values = bytes.fromhex(body)
                    writes.extend(((address + i, v), number) for i, v in enumerate(values))
            elif line.startswith("RADIO"):
                radio.append(line)
            elif line.startswith("I2C"):
                i2c.append(line)
        return cls(tuple(writes), tuple(radio), tuple(i2c))

    @classmethod
    def load(cls, path: str | Path) -> Trace:
        return cls.parse(Path(path).read_text().splitlines())


def _ordered(address: int) -> bool:
    return any(low <= address < high for low, high in _ORDERED_RANGES)


@dataclass(slots=True)
class TraceComparison:
    reference_writes: int
    reproduced_writes: int
    missing: list[tuple[WriteItem, int]] = field(default_factory=list)  # (item, reference line)
    extra_writes: int = 0
    order_error: str | None = None
    radio_error: str | None = None
    i2c_error: str | None = None

    @property
    def share(self) -> float:
        return self.reproduced_writes / self.reference_writes if self.reference_writes else 1.0

    @property
    def equivalent(self) -> bool:
        return not self.missing and self.order_error is None and self.radio_error is None

    def report(self) -> str:
        lines = [
            f"reference register writes reproduced: {self.reproduced_writes}/"
            f"{self.reference_writes} ({100 * self.share:.1f}%); {self.extra_writes} extra writes"
        ]
        for (address, value), line in self.missing[:50]:
            shown = value if isinstance(value, str) else f"{value:02X}"
            lines.append(f"  missing: W {address:04X} {shown} (reference line {line})")
        for label, error in (
            ("order", self.order_error),
            ("radio", self.radio_error),
            ("i2c", self.i2c_error),
        ):
            lines.append(f"{label}: {error or 'as the reference'}")
        return "\n".join(lines)


def compare(reference: Trace, produced: Trace) -> TraceComparison:
    available = Counter(item for item, _ in produced.writes)
    missing: list[tuple[WriteItem, int]] = []
    for item, line in reference.writes:
        if available[item] > 0:
            available[item] -= 1
        else:
            missing.append((item, line))
    result = TraceComparison(
        len(reference.writes),
        len(reference.writes) - len(missing),
        missing,
        extra_writes=sum(available.values()),
    )
    result.order_error = _order_error(reference, produced)
    result.radio_error = _sequence_error("radio frame", reference.radio, produced.radio)
    result.i2c_error = _sequence_error("I2C access", reference.i2c, produced.i2c)
    return result


def _order_error(reference: Trace, produced: Trace) -> str | None:
    """The first order-sensitive reference write not found, in order, in the produced trace."""
    wanted = [(item, line) for item, line in reference.writes if _ordered(item[0])]
    sequence = [item for item, _ in produced.writes if _ordered(item[0])]
    position = 0
    for item, line in wanted:
        try:
            position = sequence.index(item, position) + 1
        except ValueError:
            address, value = item
            shown = value if isinstance(value, str) else f"{value:02X}"
            return f"W {address:04X} {shown} (reference line {line}) missing or out of order"
    return None


def _sequence_error(what: str, reference: tuple[str, ...], produced: tuple[str, ...]) -> str | None:
    for index, expected in enumerate(reference):
        if index >= len(produced):
            return f"{what} {index + 1} missing: {expected}"
        if produced[index] != expected:
            return f"{what} {index + 1} is {produced[index]!r}, reference {expected!r}"
    return None
