"""Link tokens and form secrets: HMAC-SHA256 under the service's link secret.

A token reads ``<link id>.<signature>``. The id is random (the link itself, with the user id,
stays in the store), and the signature lets the page turn away forged or mistyped tokens
before it touches the database. The form secret of a link is derived the same way under
another label, so it needs no storage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_SIG_LEN = 32  # base64url characters: 192 bits of the HMAC


def _mac(secret: str, label: str, link_id: str) -> str:
    digest = hmac.new(secret.encode(), f"{label}:{link_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:_SIG_LEN]


def sign(secret: str, link_id: str) -> str:
    return f"{link_id}.{_mac(secret, 'acceptance-link', link_id)}"


def verify(secret: str, token: str) -> str | None:
    """The link id of a well-signed token, else None."""
    link_id, _, signature = token.partition(".")
    if not _ID.match(link_id) or len(signature) != _SIG_LEN:
        return None
    expected = _mac(secret, "acceptance-link", link_id)
    return link_id if hmac.compare_digest(signature.encode(), expected.encode()) else None


def form_secret(secret: str, link_id: str) -> str:
    return _mac(secret, "acceptance-form", link_id)


def same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())
