from __future__ import annotations

import sys

from appliance.cli.main import main

sys.exit(main())
