"""Suite-wide settings: Hypothesis profiles (bounded for the suite, long for ``make fuzz``)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["tests.mosquitto_broker"]

# The suite runs a bounded number of examples so `make test` stays fast; `make fuzz` runs the
# same properties far longer.
settings.register_profile("suite", max_examples=100, deadline=None)
settings.register_profile(
    "fuzz", max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))
