"""The hosted acceptance page: apps get a link (``POST /v1/acceptance-links``), the user
reviews the changes and accepts or declines at ``/accept/{token}``, then goes back to the app.
"""

from starlette.routing import BaseRoute, Route

from tracker.service.hosted.page import accept_page

#: Pages for people (HTML, no API key): served beside the API.
PAGE_ROUTES: list[BaseRoute] = [
    Route("/accept/{token}", accept_page, methods=["GET", "POST"]),
]

__all__ = ["PAGE_ROUTES"]
