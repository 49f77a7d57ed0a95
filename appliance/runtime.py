"""The long-running appliance process: prepares its state directory and runs until signalled.

The radio backends, network server and API attach here as they are built; today the process
validates its configuration, claims its data directory and waits for SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from appliance import __version__
from appliance.config import ApplianceConfig

log = logging.getLogger("appliance")


def prepare_data_dir(config: ApplianceConfig) -> None:
    # 0700: the directory will hold device keys and the admin API key.
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)


async def serve(config: ApplianceConfig, stop: asyncio.Event) -> None:
    prepare_data_dir(config)
    log.info(
        "appliance %s started: region %s, data in %s",
        __version__,
        config.region,
        config.data_dir.resolve(),
    )
    await stop.wait()
    log.info("appliance stopped")


def run(config: ApplianceConfig) -> int:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(config, stop)

    asyncio.run(main())
    return 0
