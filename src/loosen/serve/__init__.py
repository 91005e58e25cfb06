"""`loosen serve`: a private web player and podcast feed for a phone on the same network.

A front end beside `loosen.cli`: it calls the library's front door (`loosen.pipeline`) and
nothing below it, owns its threads (uvicorn's loop in the caller's thread, one rendering thread)
and stops them. `serve` runs it; `ServeOptions` says what and where.
"""

from loosen.serve.server import DEFAULT_PORT, Address, ServeOptions, qr_code, serve

__all__ = ["DEFAULT_PORT", "Address", "ServeOptions", "qr_code", "serve"]
