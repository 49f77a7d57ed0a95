"""Gateway links: concentrator drivers and external packet forwarders behind one frame model."""
