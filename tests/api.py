"""The API in process: Starlette's TestClient, and ``Api``, which sends a key by role."""

from __future__ import annotations

import warnings
from typing import Any

import httpx

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient; httpx works the same.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


class Api:
    """A TestClient that sends the admin key unless told otherwise."""

    def __init__(self, client: TestClient, keys: dict[str, str]):
        self.client = client
        self.keys = keys

    def request(
        self, method: str, url: str, *, key: str | None = "admin", **kw: Any
    ) -> httpx.Response:
        """Send with the key of role ``key`` (or ``key`` itself); ``None``: no key."""
        headers = dict(kw.pop("headers", None) or {})
        if key is not None:
            headers["Authorization"] = f"Bearer {self.keys.get(key, key)}"
        response: httpx.Response = self.client.request(method, url, headers=headers, **kw)
        return response

    def get(self, url: str, *, key: str | None = "admin", **kw: Any) -> httpx.Response:
        return self.request("GET", url, key=key, **kw)

    def post(self, url: str, *, key: str | None = "admin", **kw: Any) -> httpx.Response:
        return self.request("POST", url, key=key, **kw)

    def delete(self, url: str, *, key: str | None = "admin", **kw: Any) -> httpx.Response:
        return self.request("DELETE", url, key=key, **kw)

    def put(self, url: str, *, key: str | None = "admin", **kw: Any) -> httpx.Response:
        return self.request("PUT", url, key=key, **kw)


__all__ = ["Api", "TestClient"]
