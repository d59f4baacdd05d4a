"""Admission control in front of Django (ASGI): overload is answered at once with a 503 and
``Retry-After`` from the event loop, instead of queueing without bound.

Under ASGI every request's synchronous code gets a thread of its own, and uvicorn accepts
every connection it is offered: past capacity, requests pile up as threads waiting for one of
the process's pooled database connections, every answer slows down together, and clients
time out or see their connections reset (at twice the web form's capacity, 5,155 resets and
2,796 time-outs at a p99 of 33 s). Here each web process lets a bounded number of requests of
each class into Django; a few more may wait a short, bounded time for a place (those that
would likely wait longer are refused on arrival); the rest are refused before Django parses
them or touches the database. Refusing costs microseconds, so a
flood cannot starve the process of the CPU it needs for the requests it did admit.

Two classes, each with its own budget, so a flood of one cannot take the other's threads or
connections:

* ``public``: the public web form (``/f/``) and the API without credentials, where anyone on
  the internet can send as much as they like;
* ``site``: everything else, which is reps' pages and the authenticated API.

A request holds its place until its response starts (the status line), or until it ends if
it never answers: a streamed response (an export) does not keep a place while it streams.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass

logger = logging.getLogger(__name__)

#: Answered without admission: the load balancer's health probe must see a live process.
EXEMPT_PATHS = frozenset({"/healthz"})


@dataclass(frozen=True)
class Budget:
    """How many requests of a class one process serves at once (``concurrency``), how many
    more may wait for a place (``queue``) and for how long at most (``wait_seconds``)."""

    concurrency: int
    queue: int
    wait_seconds: float


class Gate:
    """A first-come, first-served counting gate with a bounded, time-limited queue. Used from
    one event loop only (no locks needed: nothing here awaits between check and change).

    A request that would likely wait past the bound is refused on arrival rather than after
    waiting for it: the expected wait is the requests ahead of it times how long a request
    holds its place (a moving average), shared among the places. So under a sustained flood
    most refusals take no time at all, and the few that queue on a guess that turns out wrong
    are refused at the bound."""

    #: How long a request is assumed to hold its place until some have been measured.
    FIRST_GUESS_SECONDS = 0.05

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.in_flight = 0
        self.waiters: deque[asyncio.Future] = deque()
        self.holding_seconds = self.FIRST_GUESS_SECONDS
        self.refused = 0  # since the last log line

    def expected_wait(self) -> float:
        return (len(self.waiters) + 1) * self.holding_seconds / self.budget.concurrency

    async def enter(self) -> bool:
        """True once the request has a place; False when it is refused (the queue is full, it
        would likely wait past the bound, or no place came free within the bound)."""
        if self.in_flight < self.budget.concurrency and not self.waiters:
            self.in_flight += 1
            return True
        if len(self.waiters) >= self.budget.queue or self.expected_wait() > self.budget.wait_seconds:
            return False
        loop = asyncio.get_running_loop()
        place = loop.create_future()
        self.waiters.append(place)
        timer = loop.call_later(self.budget.wait_seconds, _settle, place, False)
        try:
            return await place
        except asyncio.CancelledError:
            if place.done() and not place.cancelled() and place.result():
                self.leave()  # handed a place just as the request was cancelled
            raise
        finally:
            timer.cancel()
            if not (place.done() and not place.cancelled() and place.result()):
                _discard(self.waiters, place)

    def leave(self, held_seconds: float | None = None) -> None:
        """Give the place to the oldest waiter still waiting, else free it. ``held_seconds``:
        how long the request that leaves held it."""
        if held_seconds is not None:
            self.holding_seconds += 0.1 * (held_seconds - self.holding_seconds)
        while self.waiters:
            place = self.waiters.popleft()
            if not place.done():
                place.set_result(True)  # in_flight is unchanged: the place changes hands
                return
        self.in_flight -= 1


def _settle(place: asyncio.Future, value: bool) -> None:
    if not place.done():
        place.set_result(value)


def _discard(waiters: deque, place: asyncio.Future) -> None:
    with contextlib.suppress(ValueError):
        waiters.remove(place)


#: Bodies up to this size are read before admission (the web form's are at most 16 KB).
PREREAD_BYTES = 1024 * 1024


async def _buffered(receive):
    """Read the request's body messages up to ``PREREAD_BYTES``; returns a ``receive`` that
    hands them out again, then carries on with the connection's own."""
    messages = []
    size = 0
    while size <= PREREAD_BYTES:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
        size += len(message.get("body", b""))
    pending = deque(messages)

    async def replay():
        if pending:
            return pending.popleft()
        return await receive()

    return replay


def request_class(scope: dict, session_cookie: bytes) -> str | None:
    """``public``, ``site`` or None (exempt) for an HTTP request's scope."""
    path = scope.get("path", "")
    if path in EXEMPT_PATHS:
        return None
    if path.startswith("/f/"):
        return "public"
    if path.startswith("/api/"):
        headers = scope.get("headers") or ()
        for name, value in headers:
            if name == b"authorization" or (name == b"cookie" and session_cookie in value):
                return "site"
        return "public"
    return "site"


class AdmissionControl:
    """ASGI middleware: the gates of one web process (one event loop) in front of ``app``."""

    LOG_EVERY_SECONDS = 10.0

    def __init__(
        self, app, *, budgets: dict[str, Budget], retry_after_seconds: int, session_cookie: str
    ) -> None:
        self.app = app
        self.gates = {name: Gate(budget) for name, budget in budgets.items()}
        self.retry_after = str(retry_after_seconds).encode()
        self.session_cookie = session_cookie.encode() + b"="
        self.logged_at = time.monotonic()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        name = request_class(scope, self.session_cookie)
        gate = self.gates.get(name) if name else None
        if gate is None:
            return await self.app(scope, receive, send)
        if name == "public":
            # Read the body before taking a place: a client trickling its body must not hold
            # one of the few places of the class anyone on the internet can reach.
            receive = await _buffered(receive)
        if not await gate.enter():
            gate.refused += 1
            self._log_refusals()
            return await self._refuse(send)

        held = True
        admitted_at = time.monotonic()

        def release() -> None:
            nonlocal held
            if held:
                held = False
                gate.leave(time.monotonic() - admitted_at)

        async def send_and_release(message):
            if message["type"] == "http.response.start":
                release()
            await send(message)

        try:
            return await self.app(scope, receive, send_and_release)
        finally:
            release()

    async def _refuse(self, send) -> None:
        body = b"The service is busy; try again in a moment.\n"
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", self.retry_after),
                    # The web form is posted from marketing sites' pages: let them read it.
                    (b"access-control-allow-origin", b"*"),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _log_refusals(self) -> None:
        now = time.monotonic()
        if now - self.logged_at < self.LOG_EVERY_SECONDS:
            return
        counts = ", ".join(f"{gate.refused} {name}" for name, gate in self.gates.items() if gate.refused)
        logger.warning("admission: over budget, refused %s in the last %.0f s", counts, now - self.logged_at)
        for gate in self.gates.values():
            gate.refused = 0
        self.logged_at = now
