"""A Django app gated by ``tracker.client.django.RequireAcceptanceMiddleware``, served over
HTTP on 127.0.0.1 (wsgiref, a thread per request):

    python -m tests.django_app.site PORT TRACKER_URL API_KEY DB_FILE [EXTRA_JSON]

``EXTRA_JSON`` is merged into ``POLICY_TRACKER``. Pages: ``/login/<name>/`` signs in
(``staff`` is staff), ``/`` greets the user, ``/about/`` (an exempt path), ``/static/…`` (an
exempt prefix), ``…/public/…`` (an exempt pattern), ``/api/data`` (JSON). A setting the
middleware refuses stops the app before it serves: one line on stderr, exit 1.
"""

from __future__ import annotations

import json
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path, re_path


def is_staff(user: object) -> bool:
    return bool(getattr(user, "is_staff", False))


def login(request: HttpRequest, name: str) -> HttpResponse:
    from django.contrib.auth import login as sign_in
    from django.contrib.auth.models import User

    user, _ = User.objects.get_or_create(username=name, defaults={"is_staff": name == "staff"})
    sign_in(request, user)
    return HttpResponse(f"signed in as {name} ({user.pk})")


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"Welcome, {request.user.get_username() or 'guest'}")


def page(request: HttpRequest, rest: str = "") -> HttpResponse:
    return HttpResponse(f"open page {request.path}")


def data(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [
    path("login/<str:name>/", login),
    path("", home),
    path("about/", page),
    re_path(r"^static/(?P<rest>.*)$", page),
    re_path(r"^p/(?P<rest>.*)$", page),
    path("api/data", data),
]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def main(argv: list[str]) -> int:
    port, url, key, db = argv[:4]
    extra = json.loads(argv[4]) if len(argv) > 4 else {}
    settings.configure(
        DEBUG=False,
        SECRET_KEY="test-only-secret-key-for-the-django-test-app",
        ALLOWED_HOSTS=["127.0.0.1"],
        ROOT_URLCONF=__name__,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": db}},
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "tracker.client.django.RequireAcceptanceMiddleware",
        ],
        POLICY_TRACKER={
            "URL": url,
            "API_KEY": key,
            "EXEMPT": ["/login/", "/static/"],
            "EXEMPT_PATHS": ["/about/"],
            "EXEMPT_CONTAINS": ["/public/"],
            "EXEMPT_USER": f"{__name__}.is_staff",
            **extra,
        },
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0)
    try:
        app = get_wsgi_application()
    except ImproperlyConfigured as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    server = make_server("127.0.0.1", int(port), app, _Server, _Quiet)
    print("serving", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
