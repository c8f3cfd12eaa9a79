"""Policies, versions, changes (redlines) and version stats."""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from sqlalchemy import select

from tracker.service.http import Call
from tracker.service.problems import FieldError
from tracker.store import PolicyInfo, Snapshot, VersionInfo
from tracker.store.events import version_stats
from tracker.store.models import VersionRow

_MD = MarkdownIt("commonmark", {"html": False}).enable("table")


def _snapshot(call: Call) -> Snapshot:
    return call.state.snapshot(call.session)


def policy_dict(policy: PolicyInfo, call: Call) -> dict[str, Any]:
    current = policy.current(call.state.today())
    latest = policy.versions[-1] if policy.versions else None
    return {
        "slug": policy.slug,
        "title": policy.title,
        "language": policy.language,
        "path": policy.path,
        "aliases": list(policy.aliases),
        "acceptance_required": policy.acceptance_required,
        "notice_days": policy.notice_days,
        "withdrawn": policy.withdrawn,
        "current_version": current.number if current else None,
        "latest_version": latest.number if latest else None,
    }


def version_dict(policy: PolicyInfo, v: VersionInfo, call: Call) -> dict[str, Any]:
    base = call.state.settings.site_url.rstrip("/")
    return {
        "policy": policy.slug,
        "version": v.number,
        "title": v.title,
        "commit": v.commit,
        "published": v.published_at.isoformat(),
        "effective": v.effective_on.isoformat(),
        "in_force": v.effective_on <= call.state.today(),
        "significance": v.significance,
        "summary": v.summary,
        "sha256": v.sha256,
        "url": f"{base}/{policy.slug}/v{v.number}/",
    }


def _version_number(call: Call, name: str = "n") -> int:
    value = call.params[name]
    assert isinstance(value, int)
    return value


def list_policies(call: Call) -> dict[str, Any]:
    """Every policy with its current and latest version."""
    snap = _snapshot(call)
    return {"policies": [policy_dict(p, call) for p in snap.policies]}


def get_policy(call: Call) -> dict[str, Any]:
    snap = _snapshot(call)
    policy = snap.policy(call.params["slug"])
    return {
        **policy_dict(policy, call),
        "versions": [version_dict(policy, v, call) for v in policy.versions],
    }


def list_versions(call: Call) -> dict[str, Any]:
    snap = _snapshot(call)
    policy = snap.policy(call.params["slug"])
    return {
        "policy": policy.slug,
        "versions": [version_dict(policy, v, call) for v in policy.versions],
    }


def _text(call: Call, v: VersionInfo) -> str:
    text = call.session.scalar(select(VersionRow.text).where(VersionRow.id == v.id))
    return text or ""


def get_version(call: Call) -> dict[str, Any]:
    """Metadata, the exact Markdown and rendered HTML of one version."""
    snap = _snapshot(call)
    policy = snap.policy(call.params["slug"])
    v = policy.version(_version_number(call))
    markdown = _text(call, v)
    return {**version_dict(policy, v, call), "markdown": markdown, "html": _MD.render(markdown)}


def get_changes(call: Call) -> dict[str, Any]:
    """The redline between two versions, as HTML and as the structured diff."""
    from tracker.redline import classify, compare, render_html

    snap = _snapshot(call)
    policy = snap.policy(call.params["slug"])
    a, b = _version_number(call, "a"), _version_number(call, "b")
    if a == b:
        raise FieldError("range", f"compare two different versions, not {a} with itself")
    old, new = policy.version(a), policy.version(b)
    redline = compare(_text(call, old), _text(call, new))
    verdict = classify(redline)
    return {
        "policy": policy.slug,
        "from": version_dict(policy, old, call),
        "to": version_dict(policy, new, call),
        "changed": redline.changed,
        "suggested_significance": str(verdict.suggested),
        "reasons": list(verdict.reasons),
        "html": render_html(redline),
        "diff": redline.to_dict(),
    }


def get_stats(call: Call) -> dict[str, Any]:
    """How many users accepted, declined, and still need to accept a version."""
    snap = call.state.snapshot(call.session)
    policy = snap.policy(call.params["slug"])
    v = policy.version(_version_number(call))
    return version_stats(call.session, policy, v)
