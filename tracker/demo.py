"""The demo: the whole product on one machine — the site built, the tracker serving it."""

from __future__ import annotations

import logging
from pathlib import Path

from tracker.errors import TrackerError
from tracker.settings import Settings


def build_site(settings: Settings) -> Path:
    """Run ``mkdocs build`` on the repository's ``mkdocs.yml``; return the site folder."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    config_file = settings.repository / "mkdocs.yml"
    if not config_file.is_file():
        raise TrackerError(f"{config_file}: no mkdocs.yml; run the demo from a policy repository")
    site = settings.site_path
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    try:
        config = load_config(str(config_file), site_dir=str(site), site_url=settings.site_url)
        config.plugins.on_startup(command="build", dirty=False)
        try:
            build(config)
        finally:
            config.plugins.on_shutdown()
    except MkDocsException as exc:
        raise TrackerError(f"site build failed: {exc}") from None
    return site


def create_demo_key(settings: Settings) -> str:
    """A fresh key with every scope, so the person trying the demo can call the API."""
    from tracker import migrations
    from tracker.store import Store
    from tracker.store.keys import create_key

    store = Store.open(settings)
    try:
        migrations.upgrade(store.engine)
        key, _ = store.write(lambda s: create_key(s, "demo", frozenset({"read", "write", "admin"})))
    finally:
        store.dispose()
    return key
