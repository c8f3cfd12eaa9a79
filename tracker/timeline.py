"""Which version of a policy governs on a day, and what becomes of every other one.

The one rule the site, ``versions.json``, the feed, the tracker's status, its notices and
the hosted page all answer with. Pure: it needs only each version's effective date, so it
serves the git history's :class:`~tracker.policy.Version` and the store's version rows alike.

Each version's text contains every earlier one's, so on a day the version in force is the
latest (highest number) whose effective date has come. A version that a later one reaches
first (the later one takes effect on or before its own effective date) therefore never
takes effect: it is *overtaken*, and its change comes into force with the version that
overtakes it. The others are *upcoming* before their effective date, *current* while in
force and *archived* after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum


def utcnow() -> datetime:
    """The current instant, in UTC: the clock the service, the dispatcher and the commands
    read (the service and the dispatcher are handed it, so tests can give another)."""
    return datetime.now(UTC)


class VersionState(StrEnum):
    """Where a version stands on a day."""

    CURRENT = "current"  # in force
    UPCOMING = "upcoming"  # will take effect on its effective date
    OVERTAKEN = "overtaken"  # never takes effect: a later version takes effect first
    ARCHIVED = "archived"  # was in force, replaced since


@dataclass(frozen=True)
class Timeline:
    """Every version of one policy on one day; tuples are indexed by ``number - 1``."""

    on: date
    states: tuple[VersionState, ...]
    #: The day each version's change first governs: its effective date, or for an
    #: overtaken version the effective date of the version that overtakes it.
    in_force_from: tuple[date, ...]
    #: For an overtaken version, the version that replaced it before its effective date.
    replaced_by: tuple[int | None, ...]
    #: The number of the version in force, if any.
    current: int | None
    #: Upcoming versions' numbers, in the order they will take effect.
    upcoming: tuple[int, ...]

    def state(self, number: int) -> VersionState:
        return self.states[number - 1]

    def takes_effect(self, number: int) -> date:
        return self.in_force_from[number - 1]

    def overtaken_by(self, number: int) -> int | None:
        return self.replaced_by[number - 1]

    @property
    def next_up(self) -> int | None:
        """The next version to take effect."""
        return self.upcoming[0] if self.upcoming else None


def timeline(effective: Sequence[date], on: date) -> Timeline:
    """The state of each version on ``on``; ``effective[i]`` is version ``i + 1``'s date."""
    n = len(effective)
    # in_force_from[i] = min(effective[i:]): the first day version i's text, or a later
    # one containing it, governs.
    in_force_from: list[date] = [date.max] * n
    low = date.max
    for i in range(n - 1, -1, -1):
        low = min(low, effective[i])
        in_force_from[i] = low
    current: int | None = None
    for i in range(n):
        if effective[i] <= on:
            current = i + 1
    states: list[VersionState] = []
    replaced: list[int | None] = []
    upcoming: list[int] = []
    for i in range(n):
        overtaken = i + 1 < n and in_force_from[i + 1] <= effective[i]
        if overtaken:
            states.append(VersionState.OVERTAKEN)
            replaced.append(_in_force(effective, in_force_from[i + 1]))
        elif current == i + 1:
            states.append(VersionState.CURRENT)
            replaced.append(None)
        elif effective[i] > on:
            states.append(VersionState.UPCOMING)
            replaced.append(None)
            upcoming.append(i + 1)
        else:
            states.append(VersionState.ARCHIVED)
            replaced.append(None)
    # Versions not overtaken take effect in number order, so ``upcoming`` is sorted by date.
    return Timeline(
        on, tuple(states), tuple(in_force_from), tuple(replaced), current, tuple(upcoming)
    )


def in_force(effective: Sequence[date], on: date) -> int | None:
    """The number of the version in force on ``on`` (the latest that has taken effect)."""
    return _in_force(effective, on)


def _in_force(effective: Sequence[date], on: date) -> int | None:
    found = None
    for i, day in enumerate(effective):
        if day <= on:
            found = i + 1
    return found


def default_effective(natural: date, previous: date | None) -> date:
    """The effective date of a version without ``Policy-Effective``: its natural date (the
    publication day, or after a major version's notice period), but never before the
    version it is built on, so that an upcoming version's text (a major change in its
    notice period) cannot come into force early through a later patch or minor version."""
    return max(natural, previous) if previous is not None else natural
