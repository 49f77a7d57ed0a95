from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.appliance_process import Running, running_appliance


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data_dir: Path = tmp_path_factory.mktemp("appliance")
    # A setting of its own, to show the file's settings reach the running parts.
    (data_dir / "appliance.toml").write_text("max_application_backlog = 1000\n")
    with running_appliance(data_dir) as running:
        yield running


@pytest.fixture
def api(appliance: Running) -> Iterator[httpx.Client]:
    with appliance.client() as client:
        yield client
