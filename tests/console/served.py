"""A console on a real tracker served by uvicorn, with data to show: the ``privacy`` policy
(versions 1 major, 2 minor, 3 major, 4 minor), users at every stage, and a dead delivery."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast

import httpx

from tests.api import Api, TestClient
from tests.console.helpers import dead_delivery, populate
from tests.notices.receiver import Receiver
from tests.servers import serve
from tests.service.helpers import Clock
from tracker.console import new_link
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store


@dataclass
class Served:
    url: str
    api: Api
    store: Store
    settings: Settings
    clock: Clock
    delivery: int

    def link(self, role: str, name: str = "Dana") -> str:
        return new_link(self.store, self.settings, role, name, self.clock(), self.url)


@contextmanager
def served(
    settings: Settings, store: Store, clock: Clock, keys: dict[str, str], receiver: Receiver
) -> Iterator[Served]:
    with serve(create_app(settings, store=store, clock=clock)) as url:
        client = httpx.Client(base_url=url, timeout=30)
        try:
            api = Api(cast(TestClient, client), keys)
            populate(api)
            delivery = dead_delivery(api, store, settings, clock, receiver)
            yield Served(url, api, store, settings, clock, delivery)
        finally:
            client.close()
