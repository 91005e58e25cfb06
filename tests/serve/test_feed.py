"""The podcast feed of `loosen serve`, read as podcast apps read it: by a feed parser, against
the tags Apple's directory requires, and its chapters against the Podcasting 2.0 format."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from tests.serve.serving import DATA, serving
from tests.tools import require_module

require_module("starlette")
require_module("feedparser")
require_module("jsonschema")

ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
PODCAST = "{https://podcastindex.org/namespace/1.0}"
SCHEMA = DATA / "podcast-chapters.schema.json"


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The feed of two sessions once both are rendered, with what it links to."""
    cache = tmp_path_factory.mktemp("served")
    with serving(
        [str(DATA / "tiny.toml"), str(DATA / "hold.toml")], "--lan", cache=cache
    ) as served:
        documents = {name: served.ready(name) for name in ("tiny", "hold")}
        status, headers, body = served.request("/feed.xml")
        assert status == 200
        assert headers["content-type"] == "application/rss+xml; charset=utf-8"
        linked: dict[str, tuple[int, dict[str, str], bytes]] = {}
        for url in _urls(body):
            path = url.split(f":{served.port}", 1)[1]
            linked[url] = served.request(path, root="")
    return {"xml": body, "documents": documents, "linked": linked, "url": served.url}


def _urls(xml: bytes) -> list[str]:
    root = ET.fromstring(xml)
    found = [e.get("url") or e.get("href") for e in root.iter() if e.get("url") or e.get("href")]
    return sorted({str(url) for url in found})


def test_a_feed_parser_reads_it_without_complaint(feed: dict[str, object]) -> None:
    import feedparser

    parsed = feedparser.parse(feed["xml"])
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "loosen sessions"
    assert parsed.feed.image.href.endswith("/cover.jpg")
    titles = sorted(entry.title for entry in parsed.entries)
    assert titles == ["Hold", "Tiny"]
    for entry in parsed.entries:
        (enclosure,) = entry.enclosures
        assert enclosure.type == "audio/mpeg"
        assert int(enclosure.length) > 10_000
        assert entry.id.startswith("loosen-")
        assert int(entry.itunes_duration) > 0
        assert entry.published_parsed is not None


def test_it_has_every_tag_apple_requires(feed: dict[str, object]) -> None:
    channel = ET.fromstring(feed["xml"]).find("channel")  # type: ignore[arg-type]
    assert channel is not None
    for tag in ("title", "description", "language", "link"):
        assert (channel.findtext(tag) or "").strip(), tag
    assert channel.findtext(f"{ITUNES}explicit") in ("false", "true")
    image = channel.find(f"{ITUNES}image")
    assert image is not None and image.get("href", "").endswith(".jpg")
    category = channel.find(f"{ITUNES}category")
    assert category is not None and category.get("text") == "Health & Fitness"
    assert channel.findtext(f"{PODCAST}locked") == "yes"  # private: no directory takes it in
    items = channel.findall("item")
    assert len(items) == 2
    for item in items:
        assert item.findtext("title")
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false" and guid.text
        enclosure = item.find("enclosure")
        assert enclosure is not None
        assert {"url", "length", "type"} <= set(enclosure.keys())


def test_each_enclosure_is_the_rendering_byte_for_byte(feed: dict[str, object]) -> None:
    channel = ET.fromstring(feed["xml"]).find("channel")  # type: ignore[arg-type]
    linked = feed["linked"]
    assert isinstance(linked, dict) and channel is not None
    for item in channel.findall("item"):
        enclosure = item.find("enclosure")
        assert enclosure is not None
        status, headers, body = linked[enclosure.get("url")]
        assert status == 200 and headers["content-type"] == "audio/mpeg"
        assert len(body) == int(enclosure.get("length", "0"))
        assert body.startswith(b"ID3")


def test_each_episode_links_chapters_in_the_podcasting_2_format(feed: dict[str, object]) -> None:
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    channel = ET.fromstring(feed["xml"]).find("channel")  # type: ignore[arg-type]
    linked, documents = feed["linked"], feed["documents"]
    assert isinstance(linked, dict) and isinstance(documents, dict) and channel is not None
    for item in channel.findall("item"):
        chapters = item.find(f"{PODCAST}chapters")
        assert chapters is not None and chapters.get("type") == "application/json+chapters"
        status, headers, body = linked[chapters.get("url")]
        assert status == 200 and headers["content-type"] == "application/json+chapters"
        document = json.loads(body)
        jsonschema.validate(document, schema)
        starts = [c["startTime"] for c in document["chapters"]]
        assert starts == sorted(starts) and starts[0] == 0
        title = item.findtext("title")
        (player,) = [d for d in documents.values() if d["title"] == title]
        assert [c["title"] for c in document["chapters"]] == [s["title"] for s in player["steps"]]


def test_the_covers_it_names_are_square_jpegs_of_at_least_1400_pixels(
    feed: dict[str, object],
) -> None:
    import io

    from PIL import Image

    linked = feed["linked"]
    assert isinstance(linked, dict)
    covers = [url for url in linked if url.endswith(".jpg")]
    assert len(covers) == 3  # the feed's and each episode's
    for url in covers:
        status, headers, body = linked[url]
        assert status == 200 and headers["content-type"] == "image/jpeg"
        image = Image.open(io.BytesIO(body))
        assert image.format == "JPEG" and image.mode == "RGB"
        assert image.size[0] == image.size[1] >= 1400


def test_its_addresses_carry_the_token_on_the_network(feed: dict[str, object]) -> None:
    import urllib.parse

    root = urllib.parse.urlsplit(str(feed["url"])).path  # /TOKEN/
    for linked in _urls(feed["xml"]):  # type: ignore[arg-type]
        assert urllib.parse.urlsplit(linked).path.startswith(root), linked


def test_an_episode_appears_once_rendered(tmp_path: Path) -> None:
    import feedparser

    with serving([str(DATA / "tiny.toml")], cache=tmp_path) as served:
        served.ready("tiny")
        parsed = feedparser.parse(served.request("/feed.xml")[2])
    assert [entry.title for entry in parsed.entries] == ["Tiny"]
