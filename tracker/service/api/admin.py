"""Admin: publish versions from CI (the site's versions.json plus texts), manage API keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from tracker.policy import (
    Policy,
    PolicySettings,
    Significance,
    SignificanceSource,
    Version,
    sha256_text,
)
from tracker.publish.versions import FORMAT_VERSION
from tracker.service import validate as v
from tracker.service.http import Call, Reply
from tracker.service.problems import FieldError
from tracker.store import PublishResult, publish
from tracker.store.keys import KeyInfo, create_key, list_keys, parse_scopes, revoke_key
from tracker.store.links import (
    RETURN_URLS_MAX,
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

# The fields of versions.json that the site derives (addresses, statuses on its build day)
# are accepted, so that the file itself can be posted, and ignored: the tracker derives its own.
DERIVED_FIELDS = {"$schema", "as_of", "commit"}
DERIVED_POLICY_FIELDS = {
    "url",
    "history_url",
    "current_version",
    "latest_version",
    "upcoming_versions",
    "redlines",
}
DERIVED_VERSION_FIELDS = {
    "url",
    "status",
    "changes_from_previous_url",
    "changes_to_current_url",
    "changes_to_latest_url",
}
FIELDS = {"policies", "format", "generated", "site_url", "head", *DERIVED_FIELDS}
POLICY_FIELDS = {
    "slug",
    "title",
    "path",
    "aliases",
    "acceptance_required",
    "notice_days",
    "withdrawn",
    "versions",
    *DERIVED_POLICY_FIELDS,
}
VERSION_FIELDS = {
    "number",
    "commit",
    "published",
    "effective",
    "significance",
    "significance_source",
    "summary",
    "title",
    "author",
    "path",
    "sha256",
    "text",
    *DERIVED_VERSION_FIELDS,
}
SIGNIFICANCES = tuple(s.value for s in Significance)
SOURCES = tuple(s.value for s in SignificanceSource)


def parse_policies(body: Any) -> list[Policy]:
    data = v.obj(body, allowed=FIELDS)
    _check_format(data)
    items = data.get("policies")
    if not isinstance(items, list):
        raise FieldError("policies", "must be a list of policies")
    policies = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"policies[{i}]"
        p = v.obj(item, where, allowed=POLICY_FIELDS)
        slug = v.req_text(p, "slug", where=where, max_len=200).strip("/").lower()
        if slug in seen:
            raise FieldError(f"{where}.slug", f"policy {slug} appears twice")
        seen.add(slug)
        title = v.shown_text(v.req_text(p, "title", where=where, max_len=500), f"{where}.title")
        aliases = p.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise FieldError(f"{where}.aliases", "must be a list of slugs")
        notice_days = v.integer(p, "notice_days", where=where, required=False, minimum=0) or 0
        settings = PolicySettings(
            title=title,
            acceptance_required=v.boolean(p, "acceptance_required", where=where, default=True),
            notice_days=notice_days,
        )
        raw_versions = p.get("versions")
        if not isinstance(raw_versions, list):
            raise FieldError(f"{where}.versions", "must be a list of versions")
        versions = [
            _version(slug, title, raw, f"{where}.versions[{j}]")
            for j, raw in enumerate(raw_versions)
        ]
        versions.sort(key=lambda ver: ver.number)
        policies.append(
            Policy(
                slug=slug,
                path=v.text(p, "path", where=where, required=False, max_len=500, min_len=0) or "",
                settings=settings,
                versions=tuple(versions),
                aliases=tuple(a.strip("/").lower() for a in aliases),
                withdrawn=v.boolean(p, "withdrawn", where=where, default=False),
            )
        )
    return policies


def _check_format(data: Mapping[str, Any]) -> None:
    if "format" not in data:
        return
    given = data["format"]
    if isinstance(given, bool) or given != FORMAT_VERSION:
        raise FieldError(
            "format", f"must be {FORMAT_VERSION}, the versions.json format this tracker reads"
        )


def _version(slug: str, policy_title: str, raw: Any, where: str) -> Version:
    d: Mapping[str, Any] = v.obj(raw, where, allowed=VERSION_FIELDS)
    text = v.req_text(d, "text", where=where, max_len=10_000_000, min_len=0)
    sha = v.req_text(d, "sha256", where=where, max_len=64, min_len=64).lower()
    actual = sha256_text(text)
    if sha != actual:
        raise FieldError(f"{where}.sha256", f"is {sha} but the text given hashes to {actual}")
    for name in ("title", "summary", "author"):
        if isinstance(d.get(name), str):
            v.shown_text(d[name], f"{where}.{name}")
    return Version(
        policy=slug,
        number=v.req_int(d, "number", where=where),
        commit=v.req_text(d, "commit", where=where, max_len=64),
        published=v.a_datetime(d, "published", where=where),
        author=v.text(d, "author", where=where, required=False, max_len=500, min_len=0) or "",
        title=v.text(d, "title", where=where, required=False, max_len=500, min_len=0)
        or policy_title,
        text=text,
        sha256=sha,
        significance=Significance(_significance(d, where)),
        significance_source=SignificanceSource(
            v.choice(d, "significance_source", SOURCES, default="declared", where=where)
        ),
        summary=v.text(d, "summary", where=where, required=False, max_len=5000, min_len=0) or "",
        effective=v.a_date(d, "effective", where=where),
        path=v.text(d, "path", where=where, required=False, max_len=500, min_len=0) or "",
    )


def _significance(d: Mapping[str, Any], where: str) -> str:
    if d.get("significance") is None:
        raise FieldError(f"{where}.significance", "is required")
    return v.choice(d, "significance", SIGNIFICANCES, default="patch", where=where)


def publish_versions(call: Call) -> Reply:
    """Publish versions into the tracker; idempotent, refuses a changed SHA-256 (409)."""
    policies = parse_policies(call.json())
    now = call.state.now()

    def work(session: Session) -> PublishResult:
        return publish(session, policies, now=now)

    result = call.state.store.write(work)
    call.state.snapshots.clear()
    return Reply(result.to_dict(), 201 if result.created else 200)


APP_FIELDS = {"return_urls", "app_name", "color"}


def _checked(field: str, check: Callable[[str], T], value: object) -> T:
    if not isinstance(value, str):
        raise FieldError(field, "must be a string")
    try:
        return check(value)
    except BadSetting as exc:
        raise FieldError(field, exc.detail) from None


def parse_app(data: Mapping[str, Any]) -> AppSettings:
    """A key's app settings from a request body; a field left out (or null) is cleared."""
    urls = data.get("return_urls")
    if urls is None:
        urls = []
    if not isinstance(urls, list):
        raise FieldError("return_urls", "must be a list of URLs")
    if len(urls) > RETURN_URLS_MAX:
        raise FieldError("return_urls", f"must list at most {RETURN_URLS_MAX} URLs")
    name, color = data.get("app_name"), data.get("color")
    return AppSettings(
        _checked("app_name", check_app_name, name) if name is not None else None,
        _checked("color", check_color, color) if color is not None else None,
        tuple(
            dict.fromkeys(
                _checked(f"return_urls[{i}]", check_return_url_entry, url)
                for i, url in enumerate(urls)
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
    data = v.obj(call.json(), allowed={"name", "scopes", *APP_FIELDS})
    name = v.shown_text(v.req_text(data, "name", max_len=200), "name")
    raw = data.get("scopes")
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise FieldError("scopes", "must be a list of read, write, admin")
    try:
        scopes = parse_scopes(raw)
    except Exception as exc:
        raise FieldError("scopes", str(exc).removeprefix("scopes: ")) from None
    app = parse_app(data)

    def work(session: Session) -> tuple[str, KeyInfo, AppSettings | None]:
        key, info = create_key(session, name, scopes)
        return key, info, _store_app(session, info.id, app)

    key, info, stored = call.state.store.write(work)
    return Reply({"key": key, **_key(info, stored)}, 201)


def keys_set_app(call: Call) -> dict[str, Any]:
    """Replace the app settings of a key (by id or prefix); 409 for a revoked key."""
    app = parse_app(v.obj(call.json(), allowed=APP_FIELDS))
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
