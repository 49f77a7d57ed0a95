"""Running as a system service: systemd readiness and watchdog notifications."""
