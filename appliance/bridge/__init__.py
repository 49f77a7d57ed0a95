"""Upstream bridging: the appliance as a gateway of a central network server (MQTT
forwarder and Semtech UDP), hybrid routing and store-and-forward while the link is down."""
