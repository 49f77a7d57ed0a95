"""Simulated devices on a simulated radio: the glue between the device simulator and hal."""
