"""`loosen serve`: the web player and podcast feed for a phone (`loosen.serve`)."""

from __future__ import annotations

from typing import Annotated

import typer

from loosen.cli.common import EngineOpt, app, reported
from loosen.errors import PHONE_EXTRA_HINT, BadInputError
from loosen.serve import DEFAULT_PORT


@app.command()
def serve(
    scripts: Annotated[
        list[str] | None,
        typer.Argument(help="Script files or session names to serve (default: all of them)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            help=f"Port to listen on (default {DEFAULT_PORT}, or a free one if it is taken; "
            "0: any free one).",
        ),
    ] = None,
    lan: Annotated[
        bool,
        typer.Option(
            "--lan",
            help="Listen on the local network too (for a phone), every address with a secret "
            "token. Default: this computer only.",
        ),
    ] = False,
    engine: EngineOpt = None,
) -> None:
    """Serve sessions to a phone's browser and podcast app: a web player and a feed."""
    with reported():
        _require_server()
        from loosen.serve import Address, ServeOptions, qr_code
        from loosen.serve import serve as run_server

        def ready(address: Address) -> None:
            if address.fell_back:
                typer.echo(
                    f"Port {DEFAULT_PORT} is in use; listening on port {address.port} instead."
                )
            if address.lan and address.url.startswith("http://127."):
                typer.echo(
                    "Warning: no network address found for this computer; a phone cannot "
                    "reach the address below",
                    err=True,
                )
            if address.lan:
                typer.echo("On your phone (same network), scan this or open the address:")
                typer.echo(qr_code(address.url), nl=False)
                typer.echo(f"  {address.url}")
                typer.echo(f"  Podcast feed: {address.url}feed.xml")
                typer.echo("Anyone with this address can listen: it holds a secret token.")
            else:
                typer.echo(f"Open {address.url}  (this computer only; --lan for a phone)")
                typer.echo(f"Podcast feed: {address.url}feed.xml")
            typer.echo("Press Ctrl+C to stop.")

        def warn(line: str) -> None:
            typer.echo(f"Warning: {line}", err=True)

        options = ServeOptions(tuple(scripts or ()), port=port, lan=lan, engine=engine)
        run_server(options, on_ready=ready, warn=warn)


def _require_server() -> None:
    try:
        import segno  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise BadInputError(f"loosen serve needs the phone extra: {PHONE_EXTRA_HINT}") from None
