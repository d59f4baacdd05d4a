"""Fixtures the demo tests share."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command

# A Sunday morning in December and a Wednesday afternoon just after Europe's clocks changed
# (America's changed three weeks earlier).
SEED_DATES = [datetime(2026, 12, 6, 9, 15, tzinfo=UTC), datetime(2027, 3, 31, 14, 40, tzinfo=UTC)]


@pytest.fixture(params=SEED_DATES, ids=["december-sunday", "march-after-dst"])
def seeded(request):
    """The demo (60 leads), seeded with the clock frozen at one of the dates; yields that moment."""
    with time_machine.travel(request.param, tick=False):
        call_command("seed_demo", leads=60, verbosity=0)
        yield request.param
