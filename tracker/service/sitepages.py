"""The site at ``/``: the built site, and the policy pages every tracker link names.

The tracker hands out links to ``/{slug}/v{n}/`` (webhooks, exports, evidence bundles) and to
``/{slug}/changes/{a}-{b}/`` (notices: from the version a user accepted to the new one). When
the built site has no such page (a version published after it was built, by ``sync`` from
another process or ``POST /v1/admin/versions``, or a redline between two versions the site
does not pair), the tracker renders it from the versions it holds.

Rendering here rather than rebuilding the site on publication: a publication by another
process (``policy-tracker sync`` beside ``serve``, a CI job posting versions, another worker)
is not seen by the process serving the site until it reads the catalog, and a MkDocs build
takes seconds while the notices are visible at once; and the site only builds the redline
pairs it links to, while a notice may name any pair (the version a user accepted long ago to
the newest). A page rendered from the stored versions exists the moment the notice does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from tracker.errors import NotFound
from tracker.redline import compare, render_html
from tracker.store.catalog import PolicyInfo, VersionInfo
from tracker.store.models import VersionRow
from tracker.timeline import VersionState

ADDRESS = re.compile(
    r"^/(?P<slug>[a-z0-9][a-z0-9/_.-]*?)/"
    r"(?:v(?P<n>[1-9]\d{0,8})|changes/(?P<a>[1-9]\d{0,8})-(?P<b>[1-9]\d{0,8}))/?(?:index\.html)?$"
)
_MD = MarkdownIt("commonmark", {"html": False}).enable("table")


class Site:
    """ASGI app for ``/``: the built site's files, else a rendered policy page, else 404."""

    def __init__(self, folder: Path | None):
        self.folder = folder if folder is not None and folder.is_dir() else None
        self.files = StaticFiles(directory=self.folder, html=True) if self.folder else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = str(scope.get("path", "/"))
            match = ADDRESS.match(path)
            if match is not None and not self._built(path):
                response = await run_in_threadpool(_render, Request(scope), match)
                await response(scope, receive, send)
                return
        if self.files is not None:
            await self.files(scope, receive, send)
            return
        await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)

    def _built(self, path: str) -> bool:
        if self.folder is None:
            return False
        relative = path.strip("/").removesuffix("/index.html").removesuffix("index.html")
        return (self.folder / relative / "index.html").is_file()


def _render(request: Request, match: re.Match[str]) -> Response:
    from tracker.html import human_date
    from tracker.service.hosted.view import branding, render

    state = request.app.state.tracker
    with state.store.read() as session:
        snapshot = state.snapshot(session)
        try:
            policy = snapshot.policy(match["slug"])
        except NotFound:  # an unknown policy: the site's own 404
            return _missing()
        numbers = [int(match[k]) for k in ("n", "a", "b") if match[k]]
        if any(n > len(policy.versions) for n in numbers) or (
            len(numbers) == 2 and numbers[0] >= numbers[1]
        ):
            return _missing()
        wanted = [policy.versions[n - 1] for n in numbers]
        rows = session.execute(
            select(VersionRow.id, VersionRow.text).where(VersionRow.id.in_([v.id for v in wanted]))
        )
        texts: dict[int, str] = {r.id: r.text for r in rows}
    today = state.today()
    line = policy.timeline(today)
    context: dict[str, Any] = {
        "lang": "en",  # the page's own words; the text says its language (text_lang)
        "text_lang": policy.language,
        "app_name": policy.title,
        "colors": branding(None),
    }
    if len(wanted) == 1:
        version = wanted[0]
        title, text = _state(policy, version, line.state(version.number), line, human_date)
        return HTMLResponse(
            render(
                "policy_page.html",
                heading=f"{policy.title}, version {version.number}",
                banner_title=title,
                banner=text,
                facts=_facts(version, human_date),
                redline=False,
                body=_MD.render(texts.get(version.id, "")),
                **context,
            )
        )
    old, new = wanted
    return HTMLResponse(
        render(
            "policy_page.html",
            heading=f"{policy.title}: changes from version {old.number} to version {new.number}",
            banner_title=f"Changes from version {old.number} to version {new.number}",
            banner=f"{new.summary}" if new.number == old.number + 1 else "",
            facts=_facts(new, human_date),
            redline=True,
            body=render_html(compare(texts.get(old.id, ""), texts.get(new.id, ""))),
            **context,
        )
    )


def _state(
    policy: PolicyInfo, version: VersionInfo, state: VersionState, line: Any, human_date: Any
) -> tuple[str, str]:
    """The banner of a version page: the same rule and words as the built site."""
    when = human_date(version.effective_on)
    if state is VersionState.OVERTAKEN:
        by = line.overtaken_by(version.number)
        return (
            f"Never took effect: replaced by version {by} before its effective date",
            f"Version {version.number} was to take effect on {when}; version {by}, which "
            "includes its changes, took its place.",
        )
    if state is VersionState.UPCOMING:
        return (f"Upcoming version: takes effect on {when}", version.summary)
    if state is VersionState.CURRENT:
        return ("This is the version in force", version.summary)
    return (f"Archived version {version.number}", "Kept for reference.")


def _facts(version: VersionInfo, human_date: Any) -> list[tuple[str, str]]:
    return [
        ("Version", str(version.number)),
        ("Published", human_date(version.published_at.date())),
        ("Effective", human_date(version.effective_on)),
        ("Significance", version.significance),
        ("SHA-256", version.sha256),
    ]


def _missing() -> Response:
    return PlainTextResponse("Not Found", status_code=404)
