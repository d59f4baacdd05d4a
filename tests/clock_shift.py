"""Run the whole test session with the clock moved: ``REFINERY_TEST_CLOCK_SHIFT=+365d`` (or ``-365d``,
``+36h``, ``-90m``) starts a ticking time-machine travel before the first test and stops it after the
last, so every test that forgot to freeze its clock meets a different "today".

Tests that travel themselves (``time_machine.travel(...)``, the ``time_machine`` fixture) push their
destination on top of this one and come back to the shifted clock when they end. Only this Python
process moves: PostgreSQL's ``now()``, Redis, a Celery worker in another process and the browser keep
the real date, which is the point — code must take its "now" from ``django.utils.timezone``.
"""

import os
import re
from datetime import UTC, datetime, timedelta

import time_machine

ENV = "REFINERY_TEST_CLOCK_SHIFT"
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
_travel: list[time_machine.travel] = []


def parse_shift(text: str) -> timedelta:
    """``"+365d"`` -> 365 days; a sign is required so a run says which way it went."""
    match = re.fullmatch(r"\s*([+-])(\d+)([dhm])\s*", text)
    if not match:
        raise ValueError(f"{ENV}={text!r}: expected a signed amount like +365d, -365d, +36h or -90m")
    sign, amount, unit = match.groups()
    delta = timedelta(**{_UNITS[unit]: int(amount)})
    return -delta if sign == "-" else delta


def start() -> None:
    text = os.environ.get(ENV, "").strip()
    if not text:
        return
    travel = time_machine.travel(datetime.now(UTC) + parse_shift(text), tick=True)
    travel.start()
    _travel.append(travel)


def stop() -> None:
    while _travel:
        _travel.pop().stop()


def shifted() -> bool:
    return bool(_travel)


def header() -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if _travel:
        return f"clock: shifted {os.environ[ENV].strip()} by {ENV}: Python's now is {now}"
    return f"clock: real, now is {now} (set {ENV}=+365d to move it)"
