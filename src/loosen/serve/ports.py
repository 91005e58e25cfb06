"""The port `loosen serve` listens on unless told otherwise (documented in the README), in a
module of its own: the command line shows it in its help without importing the server."""

__all__ = ["DEFAULT_PORT"]

DEFAULT_PORT = 8777
