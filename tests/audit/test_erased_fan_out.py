"""An erased user is gone for the future too: publications and re-acceptance requests give
their pseudonym no notice and no webhook, and the audit log still verifies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from tests.audit.helpers import accept, publish
from tests.service.helpers import Clock
from tracker import audit
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.notices import EndpointRow, MessageRow, NoticeRow


def _subscribe(store: Store, now: datetime) -> None:
    store.write(
        lambda s: s.add(
            EndpointRow(
                url="https://hooks.example/in",
                event_types="notice.created",
                secret="whsec_" + "a" * 32,
                created_at=now,
            )
        )
    )


def test_no_notice_webhook_or_reacceptance_for_an_erased_user(
    api: Any, store: Store, settings: Settings, clock: Clock
) -> None:
    _subscribe(store, clock.now)
    publish(api, 1)
    accept(api, "alice")
    accept(api, "bob")
    r = api.delete("/v1/admin/users/bob")
    assert r.status_code == 200, r.text
    pseudonym = r.json()["pseudonym"]
    publish(api, 1, 2)  # a major version: alice is told, bob's pseudonym is not
    with store.read() as session:
        told = sorted(n.user_id for n in session.scalars(select(NoticeRow)))
        bodies = [m.data for m in session.scalars(select(MessageRow))]
    assert told == ["alice"]
    assert not any(pseudonym in str(b) for b in bodies)
    r = api.post(
        "/v1/admin/reacceptance",
        json={"policy": "privacy", "reason": "Consent form was wrong", "user_ids": [pseudonym]},
    )
    assert r.status_code == 422, r.text  # a pseudonym is no user id an app may name
    r = api.post(
        "/v1/admin/reacceptance", json={"policy": "privacy", "reason": "Again", "all": True}
    )
    assert r.json()["users"] == 1  # alice only
    report = audit.verify(store, settings)
    assert report.ok, report.message
