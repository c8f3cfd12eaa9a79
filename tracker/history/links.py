"""Links between policies, resolved against the repository as it was at each version.

Targets are named by the site's page addresses (``<slug>.md`` for a policy's current page,
``<slug>/v<N>.md`` for a version; see :mod:`tracker.publish.site`), which the site and
``check`` both use.

A policy links to another with a relative Markdown link to its file
(``[terms](terms-of-service.md#disputes)``). The generated pages live at other addresses
(``/privacy/v3/``), and the file may since have been renamed, deleted, or never have existed,
so each version's links are resolved here, not by MkDocs:

* the target path is read relative to the linking version's own file, at that version;
* a path that a policy had (at or before that version, through renames) links to that
  policy's page: from the version in force (or a draft), to the other policy's current page,
  or its last version if it was withdrawn; from an archived version, to the other policy's
  version in force when the linking version was published (its last version if withdrawn,
  its first if none was in force yet);
* anchors (``#disputes``) are kept;
* a path no policy ever had is *unresolved*: in an archived version it is shown as its text
  with a note (it never fails ``mkdocs build --strict``); in the version in force or a draft
  it is left to MkDocs, so a strict build tells the editor, and ``policy-tracker check``
  reports it once, in the commit that introduced it.

Links with a scheme (``https:``), absolute paths, links to files that are not ``.md``, and
links inside code are left as they are.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from tracker.policy import Policy, Version

#: An inline link or image: ``[text](target "title")``; group 3 is the target.
_LINK = re.compile(
    r"(!?)\[((?:[^\[\]\n]|\[[^\[\]\n]*\])*)\]"  # ![text] or [text]
    r"\(\s*(<[^>\n]*>|[^()\s]+)(\s+\"[^\"\n]*\")?\s*\)"  # (target "title")
)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LATER = datetime.max.replace(tzinfo=UTC)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class Target:
    """Where a link goes: a generated page (``src_uri``) and an anchor, or nowhere."""

    src_uri: str | None
    anchor: str = ""
    path: str = ""  # the repository path the link named


@dataclass(frozen=True)
class Unresolved:
    """A link no policy's file ever answered: what ``check`` reports."""

    policy: str
    version: str  # "v3" or "draft"
    commit: str | None
    target: str

    def __str__(self) -> str:
        commit = f" (commit {self.commit[:12]})" if self.commit else ""
        where = f"{self.policy} {self.version}{commit}"
        return f"{where}: link to {self.target} names no policy, now or before"


@dataclass(frozen=True)
class Link:
    start: int
    end: int
    text: str
    href: str
    title: str  # ' "title"' or ""


def links(markdown: str) -> Iterator[Link]:
    """The inline links (not images) of ``markdown`` outside fenced code and code spans."""
    fence: str | None = None
    offset = 0
    for line in markdown.splitlines(keepends=True):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
        elif opened:
            fence = opened.group(1)
        elif "](" in line:
            for m in _LINK.finditer(line):
                if line[: m.start()].count("`") % 2 == 0 and not m.group(1):
                    yield Link(
                        m.start() + offset,
                        m.end() + offset,
                        m.group(2),
                        m.group(3),
                        m.group(4) or "",
                    )
        offset += len(line)


class Resolver:
    """Resolves the links of every version of every policy of a site."""

    def __init__(self, policies: list[Policy], source: str):
        self.source = source.strip("/")
        self.policies = {p.slug: p for p in policies}
        self.by_path: dict[str, list[tuple[datetime, str]]] = {}
        for policy in policies:
            seen: set[str] = set()
            for version in policy.versions:
                if version.path not in seen:
                    seen.add(version.path)
                    self.by_path.setdefault(version.path, []).append(
                        (version.published, policy.slug)
                    )
            if policy.draft is not None and policy.draft.path not in seen:
                self.by_path.setdefault(policy.draft.path, []).append((_LATER, policy.slug))

    def target(self, href: str, *, path: str, at: Version | None, current: bool) -> Target | None:
        """Where ``href`` in the file ``path`` goes (``at``: the version, None for a draft;
        ``current``: the version is the one in force). None: not a link between policies."""
        href = href.strip("<>")
        if not href or href.startswith(("#", "/")) or _SCHEME.match(href):
            return None
        file, _, anchor = href.partition("#")
        file = file.split("?", 1)[0]
        if not file.endswith(".md"):
            return None
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), file))
        when = at.published if at is not None else None
        owners = [
            slug
            for published, slug in self.by_path.get(target, ())
            if when is None or published <= when
        ]
        if not owners:
            return Target(None, anchor, target)
        other = self.policies[owners[-1]]
        return Target(self._page(other, at, current), anchor, target)

    @staticmethod
    def _page(other: Policy, at: Version | None, current: bool) -> str:
        last = other.latest
        if last is None:
            return f"{other.slug}.md"
        if other.withdrawn:
            return f"{other.slug}/v{last.number}.md"
        if current or at is None:
            return f"{other.slug}.md"
        then = other.current(at.published.date()) or other.versions[0]
        return f"{other.slug}/v{then.number}.md"

    def unresolved(self, text: str, *, path: str, at: Version | None) -> list[str]:
        """The targets of the links of ``text`` that name no policy at that version."""
        found: list[str] = []
        for match in links(text):
            target = self.target(match.href, path=path, at=at, current=True)
            if target is not None and target.src_uri is None:
                found.append(match.href)
        return found

    def rewrite(
        self,
        markdown: str,
        *,
        path: str,
        at: Version | None,
        current: bool,
        url: Callable[[str], str],
    ) -> str:
        """``markdown`` with links between policies pointing at their pages (``url`` gives
        a page's address relative to the page being written)."""
        out: list[str] = []
        pos = 0
        for match in links(markdown):
            target = self.target(match.href, path=path, at=at, current=current)
            if target is None:
                continue
            out.append(markdown[pos : match.start])
            text = match.text
            if target.src_uri is not None:
                anchor = f"#{target.anchor}" if target.anchor else ""
                out.append(f"[{text}]({url(target.src_uri)}{anchor}{match.title})")
            elif current:
                out.append(markdown[match.start : match.end])  # MkDocs tells the editor
            else:
                out.append(
                    f'{text} <span class="pt-dead-link" title="This link pointed to '
                    f'{_attr(match.href)}, which no policy has had.">(link to a document '
                    "that was not published)</span>"
                )
            pos = match.end
        out.append(markdown[pos:])
        return "".join(out)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
