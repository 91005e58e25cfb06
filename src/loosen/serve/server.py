"""`loosen serve`: where the server listens, what it tells the user, and its life.

It listens on localhost only unless asked for the local network (``lan``), and then every URL
carries a random access token (`loosen.serve.access`). The port is `DEFAULT_PORT` unless another
is asked for; when the default is taken by another program it falls back to a free one and says
so; a port asked for by number that is taken is a failure (exit 1) rather than a surprise.

uvicorn runs the app in this thread and stops on Ctrl+C or SIGTERM: connections still open (a
phone streaming) get `GRACE_S` to finish, then the rendering thread is stopped, whatever it was
writing removed. While it serves, a stop signal is only noted (`_signals_noted`) and raised
once uvicorn has returned: an exception raised by a signal handler at any moment could
interrupt an import half-way and leave its module lock held, and the rendering thread,
importing too, then waited for it forever (seen under load: a SIGTERM that took 10 s, and one
that never ended).
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from loosen.errors import BadInputError, LoosenError, Terminated

if TYPE_CHECKING:
    import uvicorn
from loosen.serve.ports import DEFAULT_PORT

__all__ = ["DEFAULT_PORT", "Address", "ServeOptions", "qr_code", "serve"]
GRACE_S = 2


class ServeError(LoosenError):
    """The server cannot listen where it was asked (exit 1: the machine's)."""


@dataclass(frozen=True)
class ServeOptions:
    """What to serve and where. ``scripts``: names or paths (none: the whole library);
    ``port``: None for `DEFAULT_PORT` (or a free one if it is taken), 0 for any free one;
    ``lan``: listen on the local network, with an access token; ``engine``: the speech engine
    (None: the config file's, else the default)."""

    scripts: tuple[str, ...] = ()
    port: int | None = None
    lan: bool = False
    engine: str | None = None


@dataclass(frozen=True)
class Address:
    """Where the server listens: the URL to open (with its token on the network), the port, and
    whether it fell back from the default port because another program had it."""

    url: str
    port: int
    lan: bool
    fell_back: bool


def serve(
    options: ServeOptions,
    *,
    on_ready: Callable[[Address], None],
    warn: Callable[[str], None] | None = None,
) -> None:
    """Serve ``options.scripts`` until interrupted (`KeyboardInterrupt`, or the SIGTERM the
    front end turns into `loosen.errors.Terminated`). ``on_ready`` hears the address once the
    server listens; ``warn`` why a script is left out. Raises `BadInputError` when there is
    nothing to serve and `ServeError` when it cannot listen."""
    import uvicorn

    import loosen
    from loosen.serve.access import LocalHostsOnly, TokenRequired, new_token
    from loosen.serve.app import create_app
    from loosen.serve.library import Library
    from loosen.serve.renders import Renders, Variant, served_cache_dir

    if options.port is not None and not 0 <= options.port <= 65535:
        raise BadInputError(f"port {options.port}: a port is from 1 to 65535 (0: any free one)")
    with Renders(served_cache_dir(), engine=options.engine, version=loosen.__version__) as renders:
        library = Library(options.scripts, renders, engine=options.engine, warn=warn)
        items = library.check()
        listening, port, fell_back = _bind(options)
        token = new_token() if options.lan else None
        app = create_app(library, renders)
        guarded = TokenRequired(app, token) if token else LocalHostsOnly(app)
        host = _lan_address() if options.lan else "127.0.0.1"
        url = f"http://{host}:{port}/" + (f"{token}/" if token else "")
        for item in items:  # the feed's episodes, rendered while nobody asks for anything
            renders.queue_later(item.entry, Variant())
        _quiet_logs()
        config = uvicorn.Config(
            guarded,
            log_config=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            lifespan="off",
            timeout_graceful_shutdown=GRACE_S,
        )
        server = uvicorn.Server(config)
        with _signals_noted(server) as noted:
            on_ready(Address(url, port, options.lan, fell_back))
            server.run(sockets=[listening])
        if noted:  # raised here, where nothing is half-imported
            raise KeyboardInterrupt if noted[0] == signal.SIGINT else Terminated(noted[0])


_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@contextlib.contextmanager
def _signals_noted(server: uvicorn.Server) -> Iterator[list[int]]:
    """Within the block, a stop signal is noted in the list yielded and asks ``server`` (a
    ``uvicorn.Server``) to stop, rather than raising where the main thread happens to be;
    uvicorn's own handlers, while it runs, hand theirs back here as it returns."""
    noted: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield noted  # signals reach the main thread only
        return

    def note(signum: int, frame: object) -> None:
        noted.append(signum)
        server.should_exit = True

    previous = {signum: signal.signal(signum, note) for signum in _STOP_SIGNALS}
    try:
        yield noted
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def qr_code(url: str) -> str:
    """``url`` as a QR code drawn with half blocks, two text rows per line: for a phone's camera
    to read off the terminal (37 columns for an address with a token)."""
    import segno

    out = io.StringIO()
    segno.make(url, error="m").terminal(out=out, compact=True, border=2)
    return out.getvalue()


def _bind(options: ServeOptions) -> tuple[socket.socket, int, bool]:
    host = "0.0.0.0" if options.lan else "127.0.0.1"
    wanted = DEFAULT_PORT if options.port is None else options.port
    try:
        listening = _listen(host, wanted)
        return listening, int(listening.getsockname()[1]), False
    except OSError as error:
        if error.errno != errno.EADDRINUSE or options.port is not None:
            raise ServeError(f"cannot listen on {host} port {wanted}: {error.strerror}") from None
    try:
        listening = _listen(host, 0)
    except OSError as error:
        raise ServeError(f"cannot listen on {host}: {error.strerror}") from None
    return listening, int(listening.getsockname()[1]), True


def _listen(host: str, port: int) -> socket.socket:
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen(128)
    except OSError:
        listening.close()
        raise
    return listening


def _lan_address() -> str:
    """This machine's address on its local network: the one it would reach others from (a UDP
    socket's connect sends nothing), else its host name's."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.254.254.254", 9))
        address = str(probe.getsockname()[0])
    except OSError:
        try:
            address = socket.gethostbyname(socket.gethostname())
        except OSError:
            address = "127.0.0.1"
    finally:
        probe.close()
    return address


class _OneLine(logging.Formatter):
    """A server error in one line: what failed, never a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            text += f": {type(error).__name__}: {error}"
        return f"loosen serve: {text}"


def _quiet_logs() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_OneLine())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler] if name == "uvicorn" else []
        logger.setLevel(logging.WARNING)
        logger.propagate = name != "uvicorn"
