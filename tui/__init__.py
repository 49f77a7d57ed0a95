"""The on-site Textual console, a client of the appliance's API."""
