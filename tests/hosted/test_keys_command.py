"""``policy-tracker keys create --return-url --app-name --color``, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tracker.cli.keys import keys
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.keys import authenticate, list_keys
from tracker.store.links import key_app, return_url_allowed


def test_a_key_for_the_hosted_page(db_url: str) -> None:
    args = ["create", "--name", "shop", "--scopes", "read,write", "--database-url", db_url]
    args += ["--return-url", "https://shop.example/account/", "--return-url", "http://127.0.0.1/"]
    args += ["--app-name", "Example Shop", "--color", "#0B57D0"]
    result = CliRunner().invoke(keys, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[0]
    store = Store.open(Settings(), db_url)
    try:
        with store.read() as session:
            info = authenticate(session, key)
            assert info is not None
            app = key_app(session, info.id)
    finally:
        store.dispose()
    assert app is not None and app.display_name == "Example Shop"
    assert app.brand_color == "#0b57d0"
    assert app.return_urls == ("https://shop.example/account/", "http://127.0.0.1/")
    assert return_url_allowed("https://shop.example/account/orders?id=3", app.return_urls)
    assert return_url_allowed("http://127.0.0.1:8123/after", app.return_urls)
    assert not return_url_allowed("https://shop.example/accounts", app.return_urls)


@pytest.mark.parametrize(
    "option,value",
    [
        ("--return-url", "shop.example/"),
        ("--return-url", "https://shop.example/?next=1"),
        ("--return-url", "ftp://shop.example/"),
        ("--return-url", "https://user@shop.example/"),
        ("--color", "blue"),
    ],
)
def test_bad_app_settings_create_no_key(db_url: str, store: Store, option: str, value: str) -> None:
    args = ["create", "--name", "shop", "--database-url", db_url, option, value]
    result = CliRunner().invoke(keys, args)
    assert result.exit_code != 0
    assert value in str(result.exception)
    with store.read() as session:
        assert list_keys(session) == []
