"""``python -m tui``: the same as ``appliance console``."""

from __future__ import annotations

import sys

from appliance.cli.main import main

sys.exit(main(["console", *sys.argv[1:]]))
