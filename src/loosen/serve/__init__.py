"""`loosen serve`: a private web player and podcast feed for a phone on the same network.

A front end beside `loosen.cli`: it calls the library's front door (`loosen.pipeline`) and
nothing below it, owns its threads (uvicorn's loop in the caller's thread, one rendering thread)
and stops them. `serve` runs it; `ServeOptions` says what and where. The server's names are
imported when first used: every other command loads this package for `DEFAULT_PORT` alone.
"""

from typing import TYPE_CHECKING, Any

from loosen.serve.ports import DEFAULT_PORT

if TYPE_CHECKING:
    from loosen.serve.server import Address, ServeOptions, qr_code, serve

__all__ = ["DEFAULT_PORT", "Address", "ServeOptions", "qr_code", "serve"]

_SERVER_NAMES = frozenset({"Address", "ServeOptions", "qr_code", "serve"})


def __getattr__(name: str) -> Any:
    if name not in _SERVER_NAMES:
        raise AttributeError(f"module 'loosen.serve' has no attribute {name!r}")
    from loosen.serve import server

    return getattr(server, name)
