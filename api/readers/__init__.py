"""Readers: the only code that talks to the stores. Routes see them through the Protocols in `base`."""
