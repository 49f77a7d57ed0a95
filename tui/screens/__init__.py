"""One module per screen; each has its styles in a .tcss file of the same name."""
