"""The podcast feed of `loosen serve`: RSS 2.0 with the iTunes and Podcasting 2.0 tags.

What Apple's podcast directory requires of a show (title, description, ``itunes:image``,
``language``, ``itunes:category``, ``itunes:explicit``) and of an episode (title, an
``enclosure`` with its URL, length in bytes and type, a ``guid``), and what apps use besides
(``itunes:duration``, ``pubDate``, ``podcast:chapters``: the JSON chapters an app shows as it
plays). ``podcast:locked`` says the feed is private: no directory may take it in. Written with
the standard library's ElementTree: no template, every text escaped.
"""

from __future__ import annotations

import email.utils
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CHAPTERS_TYPE", "Episode", "Show", "feed_xml"]

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
CHAPTERS_TYPE = "application/json+chapters"  # the Podcasting 2.0 JSON chapters' media type
CATEGORY, SUBCATEGORY = "Health & Fitness", "Mental Health"

ET.register_namespace("itunes", ITUNES)
ET.register_namespace("podcast", PODCAST)
ET.register_namespace("atom", ATOM)


@dataclass(frozen=True)
class Show:
    """The feed itself: its title and description, its language tag, its own URL (``self_url``),
    the player's page (``link``) and the cover's URL."""

    title: str
    description: str
    language: str
    self_url: str
    link: str
    image_url: str


@dataclass(frozen=True)
class Episode:
    """One rendered session: ``guid`` (the rendering's key: an edited script is a new episode),
    the audio's URL, size in bytes and media type, its length in seconds, when it was rendered
    (seconds since the epoch), and the URLs of its page, cover and JSON chapters."""

    guid: str
    title: str
    description: str
    audio_url: str
    size_bytes: int
    media_type: str
    duration_s: float
    published_s: float
    link: str
    image_url: str
    chapters_url: str


def feed_xml(show: Show, episodes: Sequence[Episode]) -> bytes:
    """Return the feed as UTF-8 XML bytes, the episodes newest first."""
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", show.title)
    _text(channel, "link", show.link)
    _text(channel, "description", show.description)
    _text(channel, "language", show.language)
    _text(channel, "generator", "loosen")
    ET.SubElement(
        channel,
        f"{{{ATOM}}}link",
        {"href": show.self_url, "rel": "self", "type": "application/rss+xml"},
    )
    _text(channel, f"{{{ITUNES}}}author", "loosen")
    _text(channel, f"{{{ITUNES}}}summary", show.description)
    _text(channel, f"{{{ITUNES}}}type", "episodic")
    _text(channel, f"{{{ITUNES}}}explicit", "false")
    ET.SubElement(channel, f"{{{ITUNES}}}image", {"href": show.image_url})
    category = ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": CATEGORY})
    ET.SubElement(category, f"{{{ITUNES}}}category", {"text": SUBCATEGORY})
    image = ET.SubElement(channel, "image")
    _text(image, "url", show.image_url)
    _text(image, "title", show.title)
    _text(image, "link", show.link)
    _text(channel, f"{{{PODCAST}}}locked", "yes")
    for episode in sorted(episodes, key=lambda e: (-e.published_s, e.title)):
        _item(channel, episode)
    ET.indent(rss)
    document: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _item(channel: ET.Element, episode: Episode) -> None:
    item = ET.SubElement(channel, "item")
    _text(item, "title", episode.title)
    _text(item, "description", episode.description or episode.title)
    _text(item, "link", episode.link)
    _text(item, "guid", episode.guid).set("isPermaLink", "false")
    _text(item, "pubDate", email.utils.formatdate(episode.published_s, usegmt=True))
    ET.SubElement(
        item,
        "enclosure",
        {"url": episode.audio_url, "length": str(episode.size_bytes), "type": episode.media_type},
    )
    _text(item, f"{{{ITUNES}}}title", episode.title)
    _text(item, f"{{{ITUNES}}}duration", str(round(episode.duration_s)))
    _text(item, f"{{{ITUNES}}}episodeType", "full")
    _text(item, f"{{{ITUNES}}}explicit", "false")
    ET.SubElement(item, f"{{{ITUNES}}}image", {"href": episode.image_url})
    ET.SubElement(
        item,
        f"{{{PODCAST}}}chapters",
        {"url": episode.chapters_url, "type": CHAPTERS_TYPE},
    )


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element
