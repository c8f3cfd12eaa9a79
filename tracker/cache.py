"""A content-addressed cache on disk: results that are pure functions of texts.

Rendered pages, redlines and classifications depend only on the texts they are made from
and on the code that makes them, so they are stored under the SHA-256 of those inputs and
of the producer's version, and never invalidated: a changed text or a new renderer is a new
key. Where: ``<repository>/.cache/policy-tracker/`` (next to MkDocs' own ``.cache/``), shared
by ``mkdocs build``, ``mkdocs serve``, ``log``, ``check`` and ``sync``. The folder holds a
``.gitignore`` of ``*``, so git ignores it without an entry in the project's ``.gitignore``;
deleting it is always safe (the next run is a cold one).

Each entry is one file: a header line naming the format, the key and the SHA-256 and length
of the payload, then the payload. An entry that is truncated, altered or written for another
key or format is detected when read, reported in one warning line (once per run), and
rebuilt; it is never served. Writes go to a temporary file renamed into place, so a reader
never sees half an entry, and two processes writing the same entry write the same bytes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

FORMAT = b"policy-tracker-cache/1"
FOLDER = Path(".cache") / "policy-tracker"
ENV = "POLICY_TRACKER_CACHE"  # "0" turns the cache off; a path moves it

log = logging.getLogger("tracker.cache")


def key(*parts: str | bytes) -> str:
    """The SHA-256 of ``parts`` (each length-prefixed, so that no two lists collide)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(b"%d:" % len(data))
        digest.update(data)
    return digest.hexdigest()


class Cache:
    """Entries under ``folder``; ``None`` as folder keeps nothing (every lookup misses)."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.hits = self.misses = self.rebuilt = 0
        self._warned = False
        self._ready = False

    @classmethod
    def for_repository(cls, repository: str | Path, environ: dict[str, str] | None = None) -> Cache:
        """The cache of a repository: ``.cache/policy-tracker/`` in it, unless
        ``POLICY_TRACKER_CACHE`` says ``0`` (off) or names another folder."""
        setting = (os.environ if environ is None else environ).get(ENV, "").strip()
        if setting.lower() in {"0", "off", "false", "no"}:
            return cls(None)
        if setting:
            return cls(Path(setting).expanduser().resolve())
        return cls(Path(repository).resolve() / FOLDER)

    def _path(self, name: str) -> Path:
        assert self.folder is not None
        return self.folder / name[:2] / name[2:]

    def get(self, name: str) -> bytes | None:
        """The payload stored under ``name``, or None (missing, or bad and now discarded)."""
        if self.folder is None:
            return None
        path = self._path(name)
        try:
            data = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        header, _, payload = data.partition(b"\n")
        fields = header.split(b" ")
        good = (
            len(fields) == 4
            and fields[0] == FORMAT
            and fields[1] == name.encode("ascii")
            and fields[3] == str(len(payload)).encode("ascii")
            and fields[2] == hashlib.sha256(payload).hexdigest().encode("ascii")
        )
        if not good:
            self._bad(path, "truncated, altered or written by another version")
            self.misses += 1
            return None
        self.hits += 1
        return payload

    def put(self, name: str, payload: bytes) -> None:
        if self.folder is None:
            return
        path = self._path(name)
        try:
            self._prepare()
            path.parent.mkdir(parents=True, exist_ok=True)
            header = b"%s %s %s %d\n" % (
                FORMAT,
                name.encode("ascii"),
                hashlib.sha256(payload).hexdigest().encode("ascii"),
                len(payload),
            )
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(header + payload)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:  # a read-only checkout still builds, uncached
            if not self._warned:
                log.warning("policy-tracker: cache %s not written (%s); building without it",
                            self.folder, exc.strerror or exc)  # fmt: skip
                self._warned = True

    def text(self, name: str, make: Callable[[], str]) -> str:
        """The text stored under ``name``, made (and stored) when missing or bad."""
        found = self.get(name)
        if found is not None:
            try:
                return found.decode("utf-8")
            except UnicodeDecodeError:  # pragma: no cover - the hash was checked
                pass
        value = make()
        self.put(name, value.encode("utf-8"))
        return value

    def _prepare(self) -> None:
        if self._ready or self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        ignore = self.folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# policy-tracker's cache: safe to delete\n*\n", encoding="utf-8")
        self._ready = True

    def _bad(self, path: Path, why: str) -> None:
        self.rebuilt += 1
        if not self._warned:
            log.warning("policy-tracker: cache entry %s %s; rebuilt", path, why)
            self._warned = True
        path.unlink(missing_ok=True)
