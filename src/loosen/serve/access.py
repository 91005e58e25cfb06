"""Who may ask `loosen serve` for anything: the access token, and the names a local server answers
to. Both are ASGI middleware that answer 403 in one line before any route is reached.

On the local network every URL begins with the token (``/TOKEN/...``): a path element rather than
a query, so that the page's relative links, the feed's enclosures and a podcast app that drops
queries all keep it. It is compared in constant time (`hmac.compare_digest`), so its bytes cannot
be found one at a time by timing. On localhost there is no token, but a request must name the
host as localhost: a web page elsewhere whose name an attacker points at 127.0.0.1 (DNS
rebinding) gets nothing.
"""

from __future__ import annotations

import hmac
import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LOCAL_NAMES", "LocalHostsOnly", "TokenRequired", "new_token"]

TOKEN_BYTES = 16  # 128 bits, as a 22-character URL-safe text
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def new_token() -> str:
    """A random access token, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def _no_referrer(send: Send) -> Send:
    """``send`` that adds ``Referrer-Policy: no-referrer`` to every response: a link followed
    from the page never tells another site the address (with its token)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [*message.get("headers", []), (b"referrer-policy", b"no-referrer")]
            message = {**message, "headers": headers}
        await send(message)

    return sending


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 308,
            "headers": [(b"location", location.encode()), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def _forbidden(send: Send, why: str) -> None:
    body = f"403 Forbidden: {why}\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class TokenRequired:
    """Pass a request on only if its path begins with ``/TOKEN``, which becomes its root path
    (the routes match what follows it, and URLs the app makes carry it)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return  # no websockets or anything else
        path: str = scope["path"]
        first = path.lstrip("/").partition("/")[0]
        if not hmac.compare_digest(first.encode(), self._token):
            await _forbidden(send, "this address needs its access token (scan the QR code)")
            return
        if path == "/" + first:  # the token alone: the list's address, whose links are relative
            await _redirect(send, path + "/")
            return
        # as ASGI has it, ``path`` keeps the root and Starlette's routing takes it off
        scope = dict(scope, root_path=scope.get("root_path", "") + "/" + first)
        await self.app(scope, receive, _no_referrer(send))


class LocalHostsOnly:
    """Pass a request on only if its Host header names this machine (see the module's notes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "lifespan"):
            return
        if scope["type"] == "http":
            send = _no_referrer(send)
            host = ""
            for name, value in scope["headers"]:
                if name == b"host":
                    host = value.decode("latin-1")
                    break
            if _host_name(host) not in LOCAL_NAMES:
                await _forbidden(send, "this server answers to localhost only")
                return
        await self.app(scope, receive, send)


_HOST = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]+\]|[^:\[\]]+)(?::[0-9]{1,5})?")


def _host_name(host: str) -> str:
    """``localhost:8765`` -> ``localhost``; ``[::1]:8765`` -> ``[::1]``; anything that is not
    a host with an optional port -> ``""``."""
    found = _HOST.fullmatch(host.strip())
    return found.group("name").lower() if found else ""
