"""Admin: publish versions from CI (the site's versions.json plus texts), manage API keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from sqlalchemy.orm import Session

from tracker.contract import (
    KeyAppRequest,
    NewApiKeyRequest,
    PublishRequest,
    PublishVersion,
)
from tracker.policy import (
    Policy,
    PolicySettings,
    Significance,
    SignificanceSource,
    Version,
    sha256_text,
)
from tracker.service import validate as v
from tracker.service.http import Call, Reply
from tracker.service.problems import FieldError
from tracker.store import PublishResult, publish
from tracker.store.keys import KeyInfo, create_key, list_keys, revoke_key
from tracker.store.links import (
    AppSettings,
    BadSetting,
    app_settings,
    check_app_name,
    check_color,
    check_return_url_entry,
    replace_key_app,
    set_key_app,
)

T = TypeVar("T")


def parse_policies(body: Any) -> list[Policy]:
    """The policies of a publish request (raw JSON or already parsed)."""
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    data = v.parse(PublishRequest, raw)
    policies = []
    seen: set[str] = set()
    for i, p in enumerate(data.policies):
        where = f"policies[{i}]"
        slug = p.slug.strip("/").lower()
        if slug in seen:
            raise FieldError(f"{where}.slug", f"policy {slug} appears twice")
        seen.add(slug)
        settings = PolicySettings(
            title=p.title,
            acceptance_required=p.acceptance_required,
            notice_days=p.notice_days,
        )
        versions = [
            _version(slug, p.title, raw_version, f"{where}.versions[{j}]")
            for j, raw_version in enumerate(p.versions)
        ]
        versions.sort(key=lambda ver: ver.number)
        policies.append(
            Policy(
                slug=slug,
                path=p.path,
                settings=settings,
                versions=tuple(versions),
                aliases=tuple(a.strip("/").lower() for a in p.aliases),
                withdrawn=p.withdrawn,
            )
        )
    return policies


def _version(slug: str, policy_title: str, d: PublishVersion, where: str) -> Version:
    sha = d.sha256.lower()
    actual = sha256_text(d.text)
    if sha != actual:
        raise FieldError(f"{where}.sha256", f"is {sha} but the text given hashes to {actual}")
    return Version(
        policy=slug,
        number=d.number,
        commit=d.commit,
        published=d.published,
        author=d.author,
        title=d.title or policy_title,
        text=d.text,
        sha256=sha,
        significance=Significance(d.significance),
        significance_source=SignificanceSource(d.significance_source),
        summary=d.summary,
        effective=d.effective,
        path=d.path,
    )


def publish_versions(call: Call) -> Reply:
    """Publish versions into the tracker; idempotent, refuses a changed SHA-256 (409)."""
    call.json()
    policies = parse_policies(call.raw)
    now = call.state.now()

    def work(session: Session) -> PublishResult:
        return publish(session, policies, now=now)

    result = call.state.store.write(work)
    call.state.snapshots.clear()
    return Reply(result.to_dict(), 201 if result.created else 200)


def _checked(field: str, check: Callable[[str], T], value: str) -> T:
    try:
        return check(value)
    except BadSetting as exc:
        raise FieldError(field, exc.detail) from None


def parse_app(data: KeyAppRequest) -> AppSettings:
    """A key's app settings from a request; a field left out (or null) is cleared."""
    name, color = data.app_name, data.color
    return AppSettings(
        _checked("app_name", check_app_name, name) if name is not None else None,
        _checked("color", check_color, color) if color is not None else None,
        tuple(
            dict.fromkeys(
                _checked(f"return_urls[{i}]", check_return_url_entry, url)
                for i, url in enumerate(data.return_urls or ())
            )
        ),
    )


def _store_app(session: Session, key_id: int, app: AppSettings) -> AppSettings | None:
    return set_key_app(
        session, key_id, app_name=app.name, brand_color=app.color, return_urls=app.return_urls
    )


def _key(info: KeyInfo, app: AppSettings | None) -> dict[str, Any]:
    return {**info.to_dict(), "app": app.to_dict() if app is not None else None}


def keys_list(call: Call) -> dict[str, Any]:
    session = call.session
    apps = app_settings(session)
    return {"keys": [_key(k, apps.get(k.id)) for k in list_keys(session)]}


def keys_create(call: Call) -> Reply:
    call.json()
    data = v.parse(NewApiKeyRequest, call.raw)
    name, scopes = data.name, frozenset(data.scopes)
    app = parse_app(data)

    def work(session: Session) -> tuple[str, KeyInfo, AppSettings | None]:
        key, info = create_key(session, name, scopes)
        return key, info, _store_app(session, info.id, app)

    key, info, stored = call.state.store.write(work)
    return Reply({"key": key, **_key(info, stored)}, 201)


def keys_set_app(call: Call) -> dict[str, Any]:
    """Replace the app settings of a key (by id or prefix); 409 for a revoked key."""
    call.json()
    app = parse_app(v.parse(KeyAppRequest, call.raw))
    ident = str(call.params["key_id"])
    info, stored = call.state.store.write(
        lambda s: replace_key_app(
            s, ident, app_name=app.name, brand_color=app.color, return_urls=app.return_urls
        )
    )
    return _key(info, stored)


def keys_revoke(call: Call) -> dict[str, Any]:
    ident = str(call.params["key_id"])

    def work(session: Session) -> tuple[KeyInfo, AppSettings | None]:
        info = revoke_key(session, ident)
        return info, app_settings(session, info.id).get(info.id)

    revoked, app = call.state.store.write(work)
    call.state.forget_keys()
    return _key(revoked, app)
