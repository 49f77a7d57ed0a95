"""Integrations: application events delivered to MQTT, HTTP and InfluxDB through a
durable outbox."""
