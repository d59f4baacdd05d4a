"""REFINERY_TEST_CLOCK_SHIFT moves the clock for a whole session (make test-dates), and a test that
travels on its own still lands on its date and comes back to the shifted clock."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests import clock_shift

TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def near(a: datetime, b: datetime) -> bool:
    return abs(a - b) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("text", "delta"),
    [("+365d", timedelta(days=365)), ("-365d", timedelta(days=-365)), ("+36h", timedelta(hours=36))],
)
def test_a_shift_reads_as_a_signed_amount(text, delta):
    assert clock_shift.parse_shift(text) == delta


@pytest.mark.parametrize("text", ["365d", "+1y", "tomorrow", "+d"])
def test_a_shift_without_a_sign_and_unit_is_refused(text):
    with pytest.raises(ValueError, match="expected a signed amount like"):
        clock_shift.parse_shift(text)


def test_a_shifted_session_moves_the_clock_and_a_tests_own_travel_comes_back_to_it(monkeypatch):
    monkeypatch.setattr(clock_shift, "_travel", [])  # this session's own shift, if any, stays put
    monkeypatch.setenv(clock_shift.ENV, "-365d")
    before = datetime.now(UTC)
    clock_shift.start()
    try:
        assert near(datetime.now(UTC), before - timedelta(days=365))
        assert "clock: shifted -365d" in clock_shift.header()
        with time_machine.travel(TUESDAY, tick=False):
            assert datetime.now(UTC) == TUESDAY
        assert near(datetime.now(UTC), before - timedelta(days=365))
    finally:
        clock_shift.stop()
    assert near(datetime.now(UTC), before)
    assert clock_shift.header().startswith("clock: real")
