"""The plugin's options, as a typed MkDocs config class.

Every option is documented in ``docs/site.md``; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from mkdocs.config import base
from mkdocs.config import config_options as c

from tracker.errors import DeclarationError
from tracker.policy import parse_date


class PolicyTrackerConfig(base.Config):  # type: ignore[no-untyped-call]  # mkdocs is untyped here
    """``plugins: - policy-tracker: {...}`` in ``mkdocs.yml``."""

    enabled = c.Type(bool, default=True)
    """Switch the plugin off without removing it (every hook then does nothing)."""

    repository = c.Type(str, default="")
    """The git repository to read, relative to ``mkdocs.yml`` (default: its folder)."""

    source = c.Type(str, default="policy")
    """The folder of policy sources inside the repository."""

    ref = c.Type(str, default="HEAD")
    """The git ref whose first-parent history is published."""

    as_of = c.Optional(c.Type(str))
    """``YYYY-MM-DD``: the day the site is built for (decides current vs upcoming).

    Overridden by the environment variable ``POLICY_TRACKER_AS_OF``; default: today (UTC).
    """

    drafts = c.Optional(c.Type(bool))
    """Show uncommitted edits as unpublished drafts. Default: on under ``mkdocs serve``,
    off otherwise. Overridden by ``POLICY_TRACKER_DRAFTS`` (``1``/``0``)."""

    banner_days = c.Type(int, default=30)
    """How long after publication a major or minor version keeps its change banner."""

    index_page = c.Type(str, default="index.md")
    """The page that lists the policies: appended to it if it exists in ``docs_dir``,
    generated otherwise."""

    feed = c.Type(bool, default=True)
    """Write ``feed.xml``, an Atom feed of major and minor versions."""

    timezone = c.Type(str, default="UTC")
    """The IANA time zone (``Europe/Paris``) whose calendar dates the site shows: "Last
    updated", "Published", "Effective" and the feed. Instants stay UTC. Overridden by
    ``POLICY_TRACKER_TIMEZONE``."""

    sections = c.Type(dict, default={})
    """Titles of the navigation's folder sections, by folder under ``source``
    (``{legal: Legal terms}``); else a ``.pages`` file in the folder with ``title:``."""

    cache = c.Type(bool, default=True)
    """Keep rendered pages, redlines and classifications in ``.cache/policy-tracker/`` of
    the repository, so that a rebuild renders only what changed (safe to delete)."""


AS_OF_ENV = "POLICY_TRACKER_AS_OF"
DRAFTS_ENV = "POLICY_TRACKER_DRAFTS"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def resolve_as_of(option: str | None, environ: Mapping[str, str], today: date) -> date:
    """The day to build for: ``POLICY_TRACKER_AS_OF``, else the ``as_of`` option, else today."""
    value = environ.get(AS_OF_ENV) or option
    if not value:
        return today
    where = AS_OF_ENV if environ.get(AS_OF_ENV) else "plugin option 'as_of'"
    try:
        return parse_date(value, where=where)
    except DeclarationError as exc:
        raise ValueError(str(exc)) from None


def resolve_drafts(option: bool | None, environ: Mapping[str, str], command: str) -> bool:
    """Whether to show drafts: ``POLICY_TRACKER_DRAFTS``, else ``drafts``, else under serve."""
    value = environ.get(DRAFTS_ENV)
    if value is not None:
        if value.strip().lower() in _TRUE:
            return True
        if value.strip().lower() in _FALSE:
            return False
        raise ValueError(f"{DRAFTS_ENV}={value!r}: use 1 or 0")
    if option is not None:
        return option
    return command == "serve"
