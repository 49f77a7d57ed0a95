"""ADR algorithms by id: built-ins, plug-ins, and containment of failing plug-ins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import get_region
from appliance.ns.adr import (
    ALGORITHMS,
    ADRRequest,
    ADRResult,
    UnknownADRAlgorithmError,
    builtin_registry,
    register_algorithm,
)

REQUEST = ADRRequest(
    region=get_region("EU868"),
    adr_enabled=True,
    dr=2,
    tx_power_index=1,
    nb_trans=1,
    min_dr=0,
    max_dr=5,
    max_tx_power_index=7,
    installation_margin_db=10.0,
    required_snr_db=-15.0,
)


class FastestDR:
    """A plug-in: always the network's maximum DR at full power."""

    id = "fastest"
    name = "Fastest DR"

    def decide(self, request: ADRRequest) -> ADRResult:
        return ADRResult(request.max_dr, 0, 1)


class Broken:
    id = "broken"
    name = "Raises"

    def decide(self, request: ADRRequest) -> ADRResult:
        raise ZeroDivisionError("oops")


def test_builtins_are_registered() -> None:
    assert builtin_registry().names() == {
        "default": "Default ADR algorithm (LoRa only)",
        "none": "No ADR (keep the device's settings)",
    }


def test_a_plugin_is_used_by_its_id() -> None:
    registry = builtin_registry()
    registry.register(FastestDR())
    decision = registry.decide("fastest", REQUEST)
    assert decision.result == ADRResult(5, 0, 1) and decision.error is None


def test_an_id_is_taken_once_unless_replaced() -> None:
    registry = builtin_registry()
    registry.register(FastestDR())
    with pytest.raises(InvalidValueError, match="already registered"):
        registry.register(FastestDR())
    registry.register(FastestDR(), replace=True)


def test_a_blank_id_is_refused() -> None:
    plugin = FastestDR()
    plugin.id = " "
    with pytest.raises(InvalidValueError, match="non-blank"):
        builtin_registry().register(plugin)


def test_unknown_id_keeps_the_current_settings_and_says_why() -> None:
    decision = builtin_registry().decide("nope", REQUEST)
    assert decision.result == ADRResult(2, 1, 1)
    assert decision.error is not None and "'nope'" in decision.error
    with pytest.raises(UnknownADRAlgorithmError):
        builtin_registry().get("nope")


def test_a_failing_plugin_keeps_the_current_settings() -> None:
    registry = builtin_registry()
    registry.register(Broken())
    decision = registry.decide("broken", REQUEST)
    assert decision.result == ADRResult(2, 1, 1)
    assert decision.error == "ADR algorithm 'broken' failed: ZeroDivisionError: oops"


@pytest.fixture
def process_wide_plugin() -> Iterator[None]:
    register_algorithm(FastestDR())
    yield
    ALGORITHMS.unregister("fastest")


@pytest.mark.usefixtures("process_wide_plugin")
def test_register_algorithm_feeds_the_process_wide_registry() -> None:
    assert ALGORITHMS.decide("fastest", REQUEST).result == ADRResult(5, 0, 1)
