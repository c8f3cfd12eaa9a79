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
    PublishTranslation,
    PublishTranslationVersion,
    PublishVersion,
)
from tracker.languages import LanguageError, canonical_tag
from tracker.policy import (
    Gap,
    Policy,
    PolicySettings,
    Significance,
    SignificanceSource,
    Version,
    sha256_text,
    source_language,
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
from tracker.store.translations import publish_translations

T = TypeVar("T")


#: Each policy's translations by language, as ``Catalog.translations`` holds them.
Translations = dict[str, dict[str, Policy]]


def parse_policies(body: Any) -> list[Policy]:
    """The policies of a publish request (raw JSON or already parsed)."""
    return parse_publish(body)[0]


def parse_publish(body: Any) -> tuple[list[Policy], Translations]:
    """The policies of a publish request and their translations."""
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    data = v.parse(PublishRequest, raw)
    policies = []
    translations: Translations = {}
    seen: set[str] = set()
    for i, p in enumerate(data.policies):
        where = f"policies[{i}]"
        slug = p.slug.strip("/").lower()
        if slug in seen:
            raise FieldError(f"{where}.slug", f"policy {slug} appears twice")
        seen.add(slug)
        try:
            language = canonical_tag(p.language)
        except LanguageError as exc:
            raise FieldError(f"{where}.language", str(exc)) from None
        settings = PolicySettings(
            title=p.title,
            acceptance_required=p.acceptance_required,
            notice_days=p.notice_days,
            extra={"language": language},
        )
        versions = [
            _version(
                slug,
                p.title,
                d,
                f"{where}.versions[{j}]",
                significance=Significance(d.significance),
                significance_source=SignificanceSource(d.significance_source),
                summary=d.summary,
            )
            for j, d in enumerate(p.versions)
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
        for k, t in enumerate(p.translations):
            translation = _translation(policies[-1], t, f"{where}.translations[{k}]")
            assert translation.language is not None
            by_language = translations.setdefault(slug, {})
            if translation.language in by_language:
                raise FieldError(
                    f"{where}.translations[{k}].language",
                    f"{translation.language} appears twice in policy {slug}",
                )
            by_language[translation.language] = translation
    return policies, translations


def _translation(source: Policy, t: PublishTranslation, where: str) -> Policy:
    """A translation of ``source`` from a publish request, checked as the history checks it:
    its tag, its hashes, versions numbered 1, 2, 3… whose ``translates`` never goes back."""
    try:
        tag = canonical_tag(t.language)
    except LanguageError as exc:
        raise FieldError(f"{where}.language", str(exc)) from None
    if tag == source_language(source):
        raise FieldError(
            f"{where}.language",
            f"{tag} is the language of policy {source.slug} itself; a translation is in "
            "another language",
        )
    if t.withdrawn and t.withdrawn_at is None:
        raise FieldError(f"{where}.withdrawn_at", "is required when withdrawn is true")
    versions: list[Version] = []
    for j, d in enumerate(sorted(t.versions, key=lambda d: d.number)):
        at = f"{where}.versions[{j}]"
        if d.number != j + 1:
            raise FieldError(f"{at}.number", f"is {d.number}; versions are numbered 1, 2, 3…")
        if versions and d.translates < (versions[-1].translates or 0):
            raise FieldError(
                f"{at}.translates",
                f"is {d.translates}, but version {j} translates {versions[-1].translates}; "
                "it never goes backwards",
            )
        versions.append(
            _version(
                source.slug,
                t.title,
                d,
                at,
                significance=Significance.PATCH,  # a translation's changes are its source's
                significance_source=SignificanceSource.DECLARED,
                translates=d.translates,
            )
        )
    gaps = (Gap(len(versions), t.withdrawn_at),) if t.withdrawn and t.withdrawn_at else ()
    return Policy(
        slug=source.slug,
        path=t.path,
        settings=source.settings,
        versions=tuple(versions),
        withdrawn=t.withdrawn,
        gaps=gaps,
        language=tag,
    )


def _checked_sha256(given: str, text: str, field: str) -> str:
    sha, actual = given.lower(), sha256_text(text)
    if sha != actual:
        raise FieldError(field, f"is {sha} but the text given hashes to {actual}")
    return sha


def _version(
    slug: str,
    default_title: str,
    d: PublishVersion | PublishTranslationVersion,
    where: str,
    *,
    significance: Significance,
    significance_source: SignificanceSource,
    summary: str = "",
    translates: int | None = None,
) -> Version:
    """A version of a publish request (a policy's or a translation's), its hash checked;
    ``default_title`` serves when it gives none."""
    return Version(
        policy=slug,
        number=d.number,
        commit=d.commit,
        published=d.published,
        author=d.author,
        title=d.title or default_title,
        text=d.text,
        sha256=_checked_sha256(d.sha256, d.text, f"{where}.sha256"),
        significance=significance,
        significance_source=significance_source,
        summary=summary,
        effective=d.effective,
        path=d.path,
        translates=translates,
    )


def publish_versions(call: Call) -> Reply:
    """Publish versions into the tracker; idempotent, refuses a changed SHA-256 (409)."""
    call.json()
    policies, translations = parse_publish(call.raw)
    now = call.state.now()

    def work(session: Session) -> PublishResult:
        result = publish(session, policies, now=now)
        result.translations = publish_translations(session, translations, now)
        return result

    result = call.state.store.write(work)
    call.state.snapshots.clear()
    return Reply(result.to_dict(), 201 if result.created or result.translations else 200)


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
