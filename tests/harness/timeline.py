"""A thread-safe timeline of protocol events, for ladder assertions.

Every harness component records what it sent and saw as ``(time, actor,
event, detail)``. A test prints the ladder with times relative to the first
event and asserts that given steps happened in a given order::

    tl = Timeline()
    tl.add("CMS", "Allocate request")
    ...
    print(tl.format())
    tl.assert_order([("CMS", "Allocate request"), ("TURN", "401")])
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Sequence


class LadderError(AssertionError):
    """A required step is missing or out of order."""


@dataclass(frozen=True)
class Event:
    """One recorded step; ``t`` is time.monotonic() seconds."""

    t: float
    actor: str
    event: str
    detail: str = ""

    def matches(self, actor: str | None, event: str, detail: str = "") -> bool:
        """True if the actor is equal (or None), ``event`` is a prefix of the
        event and ``detail`` a substring of the detail."""
        if actor is not None and actor != self.actor:
            return False
        return self.event.startswith(event) and detail in self.detail


# (actor or None, event prefix) or (actor or None, event prefix, detail substring)
Step = tuple[str | None, str] | tuple[str | None, str, str]


class Timeline:
    """Append-only list of events shared by several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self.t0 = time.monotonic()

    def add(self, actor: str, event: str, detail: str = "") -> Event:
        """Record an event now and return it."""
        ev = Event(time.monotonic(), actor, event, detail)
        with self._lock:
            self._events.append(ev)
        return ev

    @property
    def events(self) -> list[Event]:
        """A snapshot copy of the events, in recording order."""
        with self._lock:
            return list(self._events)

    def find(self, actor: str | None, event: str, detail: str = "",
             after: Event | None = None) -> Event | None:
        """First event matching (actor, event prefix, detail substring),
        after the event ``after`` if given."""
        evs = self.events
        start = evs.index(after) + 1 if after is not None else 0
        return next((ev for ev in evs[start:] if ev.matches(actor, event, detail)), None)

    def count(self, actor: str | None, event: str) -> int:
        """How many events match (actor, event prefix)."""
        return sum(1 for ev in self.events if ev.matches(actor, event))

    def format(self, width: int = 14) -> str:
        """The ladder, one line per event, times in ms relative to t0."""
        lines = []
        for ev in self.events:
            ms = (ev.t - self.t0) * 1000.0
            det = f"  {ev.detail}" if ev.detail else ""
            lines.append(f"{ms:9.1f} ms  {ev.actor:<{width}} {ev.event}{det}")
        return "\n".join(lines)

    def assert_order(self, steps: Sequence[Step],
                     after: Event | None = None) -> list[Event]:
        """Check that ``steps`` occur in this order (other events may sit
        between them), starting after the event ``after`` if given. Returns
        the matched events; raises LadderError naming the first step that
        is missing after its predecessor."""
        evs = self.events
        found: list[Event] = []
        i = evs.index(after) + 1 if after is not None else 0
        for step in steps:
            actor, name = step[0], step[1]
            detail = step[2] if len(step) > 2 else ""
            while i < len(evs) and not evs[i].matches(actor, name, detail):
                i += 1
            if i == len(evs):
                ref = found[-1] if found else after
                prev = f"after '{ref.actor}: {ref.event}'" if ref else "at all"
                what = f"{actor or 'any actor'}: {name}" + (f" [{detail}]" if detail else "")
                raise LadderError(f"ladder step '{what}' not seen {prev}\n"
                                  f"{self.format()}")
            found.append(evs[i])
            i += 1
        return found
