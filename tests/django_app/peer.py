"""Build a django-termsandconditions database with the app's own models, and print what the
app says each user must still accept (``get_active_terms_not_agreed_to``) as JSON.

    python -m tests.django_app.peer DATABASE_URL [SCENARIO]

Scenarios: ``mixed`` (default: three policies, one version upcoming, one repeating its
predecessor's text, 60 users), and the bad inputs ``inactive`` (a version without
date_active), ``duplicate`` (one user accepting one version twice, the unique constraint
dropped as an old schema lacked it) and ``future`` (an acceptance dated tomorrow).
Dates are relative to now, since the app reads the clock itself.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import django
from django.conf import settings


def configure(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        database: dict[str, Any] = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": url.split(":///", 1)[1],
        }
    else:
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parts.path.lstrip("/"),
            "USER": parts.username or "",
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
        }
    settings.configure(
        DATABASES={"default": database},
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "termsandconditions",
        ],
        USE_TZ=True,
        CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()


def build(scenario: str) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from termsandconditions.models import TermsAndConditions, UserTermsAndConditions

    call_command("migrate", verbosity=0)
    now = timezone.now()
    day = timedelta(days=1)

    def terms(slug: str, number: str, name: str, text: str, active: Any, info: str = "") -> Any:
        return TermsAndConditions.objects.create(
            slug=slug, version_number=number, name=name, text=text, info=info, date_active=active
        )

    site = [
        terms("site-terms", "1.0", "Terms of Use", "Be nice.", now - 400 * day, "First terms"),
        terms("site-terms", "2.0", "Terms of Use", "Be nice.\n\nPay on time.", now - 100 * day),
        terms("site-terms", "3.0", "Terms of Use", "Be kind.", now + 30 * day, "Upcoming"),
    ]
    privacy = [
        terms("privacy", "1.0", "Privacy Notice", "<p>We keep your email.</p>", now - 300 * day),
        # The same name and text again: the app still made users accept it.
        terms("privacy", "1.5", "Privacy Notice", "<p>We keep your email.</p>", now - 50 * day),
    ]
    cookies = [terms("cookies", "1", "Cookies", "One cookie.", now - 10 * day)]
    if scenario == "inactive":
        terms("cookies", "2", "Cookies", "Two cookies.", None)
    accepted: list[tuple[Any, Any, str | None, Any]] = []
    users = [User.objects.create_user(f"user{i:02d}") for i in range(60)]
    for i, user in enumerate(users):
        # A deterministic mix: nothing, old versions, current versions, some of each.
        if i % 5 == 1:
            accepted.append((user, site[0], f"192.0.2.{i}", now - 390 * day))
        if i % 3 == 0:
            accepted.append((user, site[1], None, now - (90 - i) * day))
        if i % 4 == 2:
            accepted.append((user, privacy[0], f"2001:db8::{i:x}", now - 290 * day))
        if i % 2 == 0:
            accepted.append((user, privacy[1], f"198.51.100.{i}", now - 40 * day))
        if i % 7 == 3:
            accepted.append((user, cookies[0], None, now - 5 * day + i * timedelta(minutes=1)))
    for user, version, ip, when in accepted:
        row = UserTermsAndConditions.objects.create(user=user, terms=version, ip_address=ip)
        UserTermsAndConditions.objects.filter(pk=row.pk).update(date_accepted=when)
    if scenario == "future":
        UserTermsAndConditions.objects.filter(user=users[3]).update(date_accepted=now + day)
    if scenario == "duplicate":
        table = UserTermsAndConditions._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE copy AS SELECT * FROM {table}")
            cursor.execute(f"DROP TABLE {table}")
            cursor.execute(f"ALTER TABLE copy RENAME TO {table}")
            cursor.execute(
                f"INSERT INTO {table} (id, user_id, terms_id, ip_address, date_accepted) "
                f"SELECT 9999, user_id, terms_id, ip_address, date_accepted FROM {table} "
                "WHERE user_id = %s AND terms_id = %s",
                [users[0].pk, privacy[1].pk],
            )
    not_agreed = {
        str(u.pk): sorted(t.slug for t in TermsAndConditions.get_active_terms_not_agreed_to(u))
        for u in User.objects.all()
    }
    return {"not_agreed": not_agreed, "acceptances": len(accepted)}


if __name__ == "__main__":
    configure(sys.argv[1])
    print(json.dumps(build(sys.argv[2] if len(sys.argv) > 2 else "mixed")))
