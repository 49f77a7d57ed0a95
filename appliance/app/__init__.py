"""Application server: applications, devices and profiles as users manage them, the
ChirpStack-format events and the event and frame logs."""
