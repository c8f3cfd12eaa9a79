"""The console's templates, its headers (a strict CSP: no script, styles from the console's
own stylesheet) and its pages for what went wrong."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from tracker import html

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


@cache
def _env() -> jinja2.Environment:
    env = html.environment("tracker.console")
    env.filters["number"] = lambda n: f"{n:,}" if n is not None else "–"
    env.filters["percent"] = lambda x: f"{x * 100:.1f} %" if x is not None else "–"
    env.filters["when"] = _when
    return env


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "–"


@cache
def stylesheet() -> bytes:
    return resources.files("tracker.console").joinpath("templates/console.css").read_bytes()


def page(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("who", None)
    context.setdefault("csrf", "")
    context.setdefault("nav", "")
    html = _env().get_template(template).render(path=request.url.path, status=status, **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def message(
    request: Request,
    status: int,
    heading: str,
    text: str,
    *,
    link: tuple[str, str] | None = None,
    **context: Any,
) -> Response:
    """A page saying what went wrong (or right), with the status that says it too."""
    return page(
        request, "message.html", status=status, heading=heading, text=text, link=link, **context
    )


async def css(request: Request) -> Response:
    return Response(
        stylesheet(),
        media_type="text/css",
        headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"},
    )
