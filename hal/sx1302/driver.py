"""One SX1302/SX1303 concentrator: start, poll for packets, transmit, stop.

Synchronous and single-threaded like the chip's bus; the backend runs it in one worker
thread so the event loop never waits on SPI or USB. Time comes from the ``Clock`` given.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Final, Protocol

from appliance.lorawan.identifiers import EUI64
from hal.model import UplinkFrame
from hal.sx1302 import registers as reg
from hal.sx1302.chip import Chip
from hal.sx1302.clock import Clock
from hal.sx1302.config import ConcentratorConfig
from hal.sx1302.errors import StartError, TransportError
from hal.sx1302.firmware import FirmwareImage
from hal.sx1302.identity import ChipIdentity, read_identity
from hal.sx1302.mcu_start import load_agc_firmware, load_arb_firmware, start_agc, start_arb
from hal.sx1302.radio_setup import calibrate_radios, setup_radios
from hal.sx1302.receive import ReceptionContext, to_uplink
from hal.sx1302.rx_fifo import MAX_FIFO, parse_fifo
from hal.sx1302.rx_setup import configure_reception
from hal.sx1302.temperature import DEFAULT_ADDRESSES, I2CBus, Stts751
from hal.sx1302.timestamps import CounterTracker
from hal.sx1302.transport import Transport
from hal.sx1302.tx import TxRequest, TxState, abort, program_transmission, tx_state

log = logging.getLogger(__name__)

TEMPERATURE_REFRESH_S: Final = 10.0
COUNTER_REFRESH_S: Final = 1.0
DEFAULT_TEMPERATURE_C: Final = 25.0


class TemperatureSource(Protocol):
    def temperature_c(self) -> float: ...


@dataclass(slots=True)
class PollResult:
    uplinks: list[UplinkFrame]
    counter_us: int
    fifo_bytes: int
    dropped: Counter[str] = field(default_factory=Counter)


class Concentrator:
    def __init__(
        self,
        transport: Transport,
        config: ConcentratorConfig,
        *,
        agc_firmware: FirmwareImage,
        arb_firmware: FirmwareImage,
        clock: Clock,
        i2c: I2CBus | None = None,
        temperature_addresses: tuple[int, ...] = DEFAULT_ADDRESSES,
        mcu_temperature: TemperatureSource | None = None,
        default_temperature_c: float = DEFAULT_TEMPERATURE_C,
    ) -> None:
        self.chip = Chip(transport)
        self.config = config
        self.clock = clock
        self._agc = agc_firmware
        self._arb = arb_firmware
        self._i2c = i2c
        self._temperature_addresses = temperature_addresses
        self._mcu_temperature = mcu_temperature
        self._default_temperature_c = default_temperature_c
        self.sensor: Stts751 | None = None
        self.identity: ChipIdentity | None = None
        self.counter = CounterTracker()
        self._temperature: tuple[float, float] | None = None  # (value, read at)
        self._uplink_id = 0
        self._counter_read_at: tuple[int, float] | None = None
        self.started = False

    # --- start / stop --------------------------------------------------------------------

    def start(self) -> ChipIdentity:
        chip, config, clock = self.chip, self.config, self.clock
        try:
            version = chip.get(reg.VERSION)
        except TransportError as exc:
            raise StartError("connect", str(exc)) from exc
        if version in (0x00, 0xFF):
            raise StartError(
                "connect", f"no SX1302 answers (version register reads 0x{version:02X})"
            )
        log.info("SX1302 version 0x%02X", version)
        chip.set(reg.GPIO_OUT, 0x00)
        calibrate_radios(chip, config, clock)
        setup_radios(chip, config, clock)
        configure_reception(chip, config)
        load_agc_firmware(chip, self._agc)
        start_agc(chip, self._agc, clock)
        load_arb_firmware(chip, self._arb)
        start_arb(chip, self._arb, clock)
        self._configure_tx()
        chip.set(reg.GPS_EN, 1)
        chip.set(reg.GPS_POL, 1)  # PPS is active low on these boards
        if self._i2c is not None:
            self.sensor = Stts751.probe(self._i2c, self._temperature_addresses)
            if self.sensor is None:
                log.info(
                    "no STTS751 temperature sensor found; using %.1f C", self._default_temperature_c
                )
        chip.set(reg.GPIO_OUT, 0x01)
        self.identity = read_identity(chip)
        self.counter = CounterTracker()
        self._counter_read_at = None
        self.read_counter()
        self.started = True
        return self.identity

    def _configure_tx(self) -> None:
        chip = self.chip
        for chain in (0, 1):
            chip.set(reg.for_chain(reg.TX_PLL_DIV_CTRL_AGC, chain), 1)  # the AGC drives the PLL
        for chain in (0, 1):
            chip.set(reg.for_chain(reg.TX_IF_DST, chain), 1)  # SX1250 TX front-end
        for chain in (0, 1):
            chip.set(reg.for_chain(reg.TX_MODE, chain), 1)  # modulated
        for chain in (0, 1):
            chip.set(reg.for_chain(reg.TX_CLK_EDGE, chain), 0)  # data on rising edge

    def stop(self) -> None:
        """Abort any transmission and release the bus."""
        try:
            if self.started:
                for chain in (0, 1):
                    abort(self.chip, chain, self.clock)
        finally:
            self.started = False
            self.chip.transport.close()
            if self._i2c is not None:
                self._i2c.close()

    # --- time and temperature ------------------------------------------------------------

    def read_counter(self) -> int:
        """The 32-bit microsecond counter now (also keeps the wrap count fresh)."""
        raw = self.chip.read_bytes(reg.COUNTERS, 8)
        again = self.chip.read_bytes(reg.COUNTERS, 8)
        if raw[0] != again[0] or raw[4] != again[4]:
            raw = self.chip.read_bytes(reg.COUNTERS, 8)  # a carry rippled between reads
        value = self.counter.update(
            int.from_bytes(raw[4:8], "big"), int.from_bytes(raw[0:4], "big")
        )
        self._counter_read_at = (value, self.clock.monotonic())
        return value

    def temperature_c(self) -> float | None:
        """The board's temperature, or None when it has no sensor (refreshed every 10 s)."""
        now = self.clock.monotonic()
        if self._temperature is not None and now - self._temperature[1] < TEMPERATURE_REFRESH_S:
            return self._temperature[0]
        source: TemperatureSource | None = self.sensor or self._mcu_temperature
        if source is None:
            return None
        try:
            value = source.temperature_c()
        except (OSError, TransportError) as exc:
            log.warning("temperature read failed: %s", exc)
            return self._temperature[0] if self._temperature else None
        self._temperature = (value, now)
        return value

    # --- reception -----------------------------------------------------------------------

    def fifo_size(self) -> int:
        first = self.chip.read_bytes(reg.RX_BUFFER_NB_BYTES, 2)
        size = ((first[0] & 0x1F) << 8) | first[1]
        if size == 0:
            return 0
        # A multi-byte read may catch the count mid-update: take the larger of two reads.
        second = self.chip.read_bytes(reg.RX_BUFFER_NB_BYTES, 2)
        return max(size, ((second[0] & 0x1F) << 8) | second[1])

    def counter_refresh_due(self) -> bool:
        read = self._counter_read_at
        return read is None or self.clock.monotonic() - read[1] >= COUNTER_REFRESH_S

    def counter_now(self) -> int:
        """The 32-bit counter now: read from the chip at most every second (that keeps the
        wrap count fresh), extrapolated on the clock in between to spare the bus."""
        if self._counter_read_at is None or self.counter_refresh_due():
            return self.read_counter()
        value, at = self._counter_read_at
        return (value + round((self.clock.monotonic() - at) * 1e6)) & 0xFFFFFFFF

    def poll(self, *, gateway_id: EUI64, unix_now_ns: int | None = None) -> PollResult:
        size = min(self.fifo_size(), MAX_FIFO)
        data = self.chip.read_memory(reg.RX_FIFO, size, fifo=True) if size else b""
        # Packets need a fresh wrap count (read after the FIFO, as the chip latched them).
        counter_us = self.read_counter() if data else self.counter_now()
        result = PollResult([], counter_us, size)
        if not data:
            return result
        parsed = parse_fifo(data)
        result.dropped = parsed.dropped
        if not parsed.packets:
            return result
        temperature = self.temperature_c()
        context = ReceptionContext(
            self.config,
            gateway_id,
            self._default_temperature_c if temperature is None else temperature,
            counter_us,
            unix_now_ns,
        )
        for packet in parsed.packets:
            self._uplink_id = (self._uplink_id + 1) & 0xFFFFFFFF
            result.uplinks.append(to_uplink(packet, context, self.counter, self._uplink_id))
        return result

    # --- transmission --------------------------------------------------------------------

    def send(self, request: TxRequest) -> None:
        program_transmission(self.chip, request)

    def tx_state(self, chain: int) -> TxState:
        return tx_state(self.chip, chain)

    def abort(self, chain: int) -> None:
        abort(self.chip, chain, self.clock)
