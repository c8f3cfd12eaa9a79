"""``feed.xml``: an Atom feed (RFC 4287) of the major and minor versions of every policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from html import escape
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from tracker.html import human_date
from tracker.policy import Version
from tracker.publish import site
from tracker.publish.site import PolicyView, SitePlan

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
Url = Callable[[str], str]


def build(plan: SitePlan, url: Url, *, site_name: str, site_url: str | None) -> str:
    """The feed as XML text; ``url(src_uri)`` as for ``versions.json``."""
    ET.register_namespace("", ATOM)
    entries = sorted(
        (
            (v, version)
            for v in (*plan.views, *plan.translated)
            for version in v.policy.versions
            if version.significance in site.NOTIFIED
        ),
        key=lambda item: (item[1].published, item[0].slug, item[1].number),
        reverse=True,
    )
    host = (urlsplit(site_url).hostname if site_url else None) or "policy-tracker.invalid"
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "title", f"{site_name}: policy changes")
    _text(feed, "id", url("feed.xml") if site_url else f"tag:{host},2000:{site_name}/feed")
    updated = entries[0][1].published if entries else datetime.combine(plan.as_of, time(), UTC)
    _text(feed, "updated", _stamp(updated))
    _link(feed, url("feed.xml"), "self", "application/atom+xml")
    _link(feed, url(""), "alternate", "text/html")
    _text(_sub(feed, "author"), "name", site_name)
    _sub(feed, "generator").text = "policy-tracker"
    for v, version in entries:
        _entry(feed, v, version, url, host=host, absolute=bool(site_url))
    ET.indent(feed)
    return ET.tostring(feed, encoding="unicode", xml_declaration=True) + "\n"


def _entry(
    feed: ET.Element, v: PolicyView, version: Version, url: Url, *, host: str, absolute: bool
) -> None:
    n = version.number
    page = url(site.version_uri(v.slug, n))
    changes = url(site.redline_uri(v.slug, n - 1, n)) if n > 1 else page
    entry = _sub(feed, "entry")
    if v.language is not None:  # a translation's version, in its language
        entry.set(XML_LANG, v.language)
    _text(entry, "title", f"{version.title}: version {n} ({version.significance.value})")
    ident = (
        page
        if absolute
        else f"tag:{host},{version.published.astimezone(UTC):%Y-%m-%d}:{v.slug}/v{n}"
    )
    _text(entry, "id", ident)
    _text(entry, "published", _stamp(version.published))
    _text(entry, "updated", _stamp(version.published))
    _link(entry, changes, "alternate", "text/html")
    _link(entry, page, "related", "text/html")
    _sub(entry, "category", term=version.significance.value)
    _text(entry, "summary", version.summary)
    by = v.overtaken_by(version)
    when = (
        f"Never took effect: replaced by version {by.number} before its effective date"
        if by is not None
        else f"Effective {human_date(version.effective)}"
    )
    content = _sub(entry, "content", type="html")
    content.text = (
        f"<p>{escape(version.summary)}</p>"
        f"<p>{escape(when)}. "
        f'<a href="{escape(changes)}">See what changed</a> · '
        f'<a href="{escape(page)}">Read version {n}</a></p>'
    )


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = _sub(parent, tag)
    element.text = text
    return element


def _link(parent: ET.Element, href: str, rel: str, kind: str) -> None:
    _sub(parent, "link", href=href or "./", rel=rel, type=kind)
