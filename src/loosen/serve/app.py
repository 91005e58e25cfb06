"""The web application of `loosen serve`: the player's pages, its JSON, the audio, the covers
and the podcast feed, as Starlette routes over `Library` (what is served, through the library's
front door) and `Renders` (the renderings).

    /                        the session list (web/index.html)
    /session/NAME            a session's player (web/session.html)
    /static/FILE             the page's script, style and icon (all shipped in the package)
    /api/sessions            [{name, title, description, length_s, exact, page, cover}]
    /api/choices             {paces: [{name, description}], voices: [{id, name}]}
    /api/sessions/NAME?pace=P&voice=V
                             202 {state: "rendering", stage, fraction}; 200 {state: "ready",
                             audio, duration_s, steps: [{title, start_s, end_s, lines}], ...};
                             400 (a pace or voice not offered), 422 (the script) or 500
                             (the machine) {state: "failed", message}
    /audio/KEY.mp3           a rendering: Range requests, a strong ETag (the key), immutable
    /chapters/KEY.json       its Podcasting 2.0 JSON chapters
    /cover/NAME.jpg          a session's cover; /cover.jpg the feed's
    /feed.xml                the podcast feed of every session at its script's pace

URLs that the app gives out are absolute paths under its root (``/TOKEN`` on the network).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from loosen.serve.feed import CHAPTERS_TYPE, Episode, Show, feed_xml
from loosen.serve.library import Library, UnknownChoiceError
from loosen.serve.renders import AUDIO_TYPE, Failed, Ready, Rendering, Renders, Variant

__all__ = ["WEB_DIR", "create_app"]

WEB_DIR = Path(__file__).parent / "web"
_IMMUTABLE = "private, max-age=31536000, immutable"
_FRESH = "no-cache"  # may be kept, but asked again (with its ETag) every time


def create_app(library: Library, renders: Renders) -> Starlette:
    """The app serving ``library``'s sessions, rendered by ``renders``."""
    endpoints = _Endpoints(library, renders)
    routes = [
        Route("/", endpoints.page),
        Route("/session/{name}", endpoints.page),
        Route("/api/sessions", endpoints.sessions),
        Route("/api/choices", endpoints.choices),
        Route("/api/sessions/{name}", endpoints.session),
        Route("/audio/{key}.mp3", endpoints.audio),
        Route("/chapters/{key}.json", endpoints.chapters),
        Route("/cover.jpg", endpoints.cover),
        Route("/cover/{name}.jpg", endpoints.cover),
        Route("/feed.xml", endpoints.feed),
        Mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static"),
    ]
    return Starlette(routes=routes)


class _Endpoints:
    """The routes' handlers, over one library and its renderings. Plain functions, which
    Starlette runs in its thread pool: a cover drawn or a script read never holds up another
    listener's download."""

    def __init__(self, library: Library, renders: Renders) -> None:
        self.library = library
        self.renders = renders

    def page(self, request: Request) -> Response:
        name = "session.html" if "name" in request.path_params else "index.html"
        return FileResponse(WEB_DIR / name, headers={"cache-control": _FRESH})

    def sessions(self, request: Request) -> Response:
        base = _root(request)
        listed = [
            {
                "name": item.entry.name,
                "title": item.summary.title,
                "description": item.summary.description,
                "length_s": item.summary.length_s,
                "exact": item.summary.exact,
                "page": f"{base}/session/{quote(item.entry.name)}",
                "cover": f"{base}/cover/{quote(item.entry.name)}.jpg",
            }
            for item in self.library.items()
        ]
        return JSONResponse(listed, headers={"cache-control": "no-store"})

    def choices(self, request: Request) -> Response:
        paces = [{"name": n, "description": d} for n, d in self.library.paces()]
        voices = [{"id": i, "name": n} for i, n in self.library.voices()]
        return JSONResponse({"paces": paces, "voices": voices})

    def session(self, request: Request) -> Response:
        entry = self.library.entry(request.path_params["name"])
        if entry is None:
            return _not_found("no such session")
        try:
            variant = self.library.variant(
                request.query_params.get("pace"), request.query_params.get("voice")
            )
        except UnknownChoiceError as error:
            return JSONResponse({"state": "failed", "message": str(error)}, status_code=400)
        state = self.renders.state(entry, variant)
        wait_s = _wait_s(request.query_params.get("wait"))
        if isinstance(state, Rendering) and wait_s:  # a long poll: answered as it is made
            self.renders.wait_finished(state.key, wait_s)
            state = self.renders.state(entry, variant)
        headers = {"cache-control": "no-store"}
        if isinstance(state, Failed):
            status = 422 if state.exit_code == 2 else 500
            failed = {"state": "failed", "message": state.message}
            return JSONResponse(failed, status_code=status, headers=headers)
        if not isinstance(state, Ready):
            rendering = {
                "state": "rendering",
                "stage": state.stage,
                "fraction": round(state.fraction, 3),
            }
            headers["retry-after"] = "1"
            return JSONResponse(rendering, status_code=202, headers=headers)
        base = _root(request)
        document = self.library.player_document(entry, state)
        document.update(
            state="ready",
            name=entry.name,
            audio=f"{base}/audio/{state.key}.mp3",
            chapters=f"{base}/chapters/{state.key}.json",
            cover=f"{base}/cover/{quote(entry.name)}.jpg",
            home=f"{base}/",
        )
        return JSONResponse(document, headers=headers)

    def audio(self, request: Request) -> Response:
        ready = self.renders.ready(request.path_params["key"])
        if ready is None:
            return _not_found("no such rendering")
        self.renders.touch(ready)
        return _file(request, ready.audio, AUDIO_TYPE, f'"{ready.key}"')

    def chapters(self, request: Request) -> Response:
        ready = self.renders.ready(request.path_params["key"])
        if ready is None:
            return _not_found("no such rendering")
        return _file(request, ready.chapters, CHAPTERS_TYPE, f'"{ready.key}-chapters"')

    def cover(self, request: Request) -> Response:
        image = self.library.cover(request.path_params.get("name"))
        if image is None:
            return _not_found("no such session")
        return _bytes(request, image, "image/jpeg")

    def feed(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        episodes = []
        for item in self.library.items():
            state = self.renders.state(item.entry, Variant(), start=False)
            if not isinstance(state, Ready):
                self.renders.queue_later(item.entry, Variant())
                continue
            episodes.append(
                Episode(
                    guid=f"loosen-{state.key}",
                    title=item.summary.title,
                    description=item.summary.description,
                    audio_url=f"{base}/audio/{state.key}.mp3",
                    size_bytes=state.size_bytes,
                    media_type=AUDIO_TYPE,
                    duration_s=item.summary.length_s,
                    published_s=state.mtime_s,
                    link=f"{base}/session/{quote(item.entry.name)}",
                    image_url=f"{base}/cover/{quote(item.entry.name)}.jpg",
                    chapters_url=f"{base}/chapters/{state.key}.json",
                )
            )
        show = Show(
            title=self.library.title,
            description=self.library.description,
            language=self.library.language,
            self_url=f"{base}/feed.xml",
            link=f"{base}/",
            image_url=f"{base}/cover.jpg",
        )
        feed = feed_xml(show, episodes)
        return _bytes(request, feed, "application/rss+xml; charset=utf-8")


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _file(request: Request, path: Path, media_type: str, etag: str) -> Response:
    """A rendering's file: Range requests (Starlette's), its strong ETag, kept for good."""
    if _matches(request, etag):
        return _not_modified(etag, _IMMUTABLE)
    headers = {"etag": etag, "cache-control": _IMMUTABLE}
    return FileResponse(path, media_type=media_type, headers=headers)


def _bytes(request: Request, content: bytes, media_type: str) -> Response:
    """``content`` with its ETag, or 304 if the client has it already."""
    etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    if _matches(request, etag):
        return _not_modified(etag, _FRESH)
    return Response(content, media_type=media_type, headers={"etag": etag, "cache-control": _FRESH})


def _matches(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match")
    if wanted is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    return "*" in tags or etag in tags


def _not_modified(etag: str, cache_control: str) -> Response:
    return Response(status_code=304, headers={"etag": etag, "cache-control": cache_control})


def _not_found(why: str) -> Response:
    return JSONResponse({"state": "failed", "message": why}, status_code=404)


MAX_WAIT_S = 5.0  # the longest a request for a rendering under way is held (``?wait=S``)


def _wait_s(asked: str | None) -> float:
    """The seconds ``?wait=`` asks a request to be held while its rendering is made: 0 to
    `MAX_WAIT_S` (what is not a number: 0, an answer at once)."""
    try:
        wait_s = float(asked) if asked else 0.0
    except ValueError:
        return 0.0
    return min(max(wait_s, 0.0), MAX_WAIT_S) if wait_s == wait_s else 0.0  # NaN: 0
