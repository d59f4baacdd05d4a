"""Speed to lead: how long leads wait for their first touch, and what waiting costs.

``speed`` measures the leads first touched in the period: the median and 90th percentile of
the wait from the moment the clock started (routed, else MQL, else captured) to the first
touch, in wall-clock time and in business time (the owner's team calendar), overall or by
rep, team, channel or local week. ``decay`` follows the period's cohort and shows, per
response-time bucket, how many were handed off, accepted and won: the decay curve.

One query per call (percentiles in SQL on both databases: ``insight.stats``); the speed page
asks all its tables at once (``measure``): one statement of side-by-side parts.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.db.models import Case, CharField, Q, Value, When
from django.db.models.functions import TruncWeek

from leads.models import Channel
from team.models import Team, User

from . import answers
from .scope import Scope
from .stats import percentiles_grouped_each

BY = (None, "rep", "team", "channel", "week")
EVERYONE = "All leads"
NOBODY = "Unassigned"


@dataclass(frozen=True)
class SpeedRow:
    key: object  # the rep's or team's id, the channel, the week's Monday (a date); None overall
    label: str
    touches: int  # leads first touched in the period
    median: timedelta | None
    p90: timedelta | None
    median_business: timedelta | None
    p90_business: timedelta | None


def _seconds(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def _person(first: str | None, last: str | None, username: str | None) -> str:
    if username is None:
        return NOBODY
    return f"{first or ''} {last or ''}".strip() or username


def _monday(value) -> date | None:
    """The local Monday a ``TruncWeek`` answer stands for (a date on either database)."""
    if isinstance(value, datetime):
        return value.date()
    return value


def _groups(scope: Scope, by: str | None):
    """What to group by, and a function that, given the groups found, turns each group into
    (key, label). Reps and teams are grouped by their id alone and named afterwards, from
    the few ids found: sorting a year's facts by an id is twice as fast as by an id and
    three names joined to every row."""
    if by is None:
        return None, lambda found: lambda g: (None, EVERYONE)
    if by == "rep":

        def reps(found):
            names = dict(_names(User.objects, found, "first_name", "last_name", "username"))
            return lambda g: (g["key"], _person(*names.get(g["key"], (None, None, None))))

        return {"key": "sdr"}, reps
    if by == "team":

        def teams(found):
            names = {pk: name for pk, (name,) in _names(Team.objects, found, "name")}
            return lambda g: (g["key"], names.get(g["key"]) or "No team")

        return {"key": "team"}, teams
    if by == "channel":
        labels = dict(Channel.choices)
        return (
            {"key": "channel"},
            lambda found: (
                lambda g: (
                    g["key"],
                    labels.get(g["key"], g["key"]) or "No channel",
                )
            ),
        )
    if by == "week":
        week = TruncWeek("first_touch_at", tzinfo=scope.period.tz)

        def label(g):
            monday = _monday(g["key"])
            return monday, f"Week of {monday:%-d %b %Y}"

        return {"key": week}, lambda found: label
    raise ValueError(f"Speed is measured by {', '.join(str(b) for b in BY)}, not {by!r}.")


def _names(manager, found, *fields):
    """(id, (field values...)) of the rows with the ids found (none asked when none found)."""
    ids = {r.group["key"] for r in found} - {None}
    if not ids:
        return []
    return [(row[0], row[1:]) for row in manager.filter(pk__in=ids).values_list("pk", *fields)]


def _order(by: str | None):
    if by == "week":
        return lambda r: r.key
    if by == "rep":  # the fastest first; reps with no measured touch last
        return lambda r: (r.median is None, r.median or timedelta(0), r.label)
    return lambda r: r.label


DECAY = "decay"  # asked of ``measure`` beside the speed groupings
SPEED_VALUES = {"wall": "response_seconds", "business": "response_business_seconds"}


def measure(scope: Scope, wanted) -> dict:
    """Several of the page's tables in one statement: each of ``wanted`` is a grouping of
    ``speed`` (None, "rep", "team", "channel", "week") or ``DECAY``. PostgreSQL runs the parts
    side by side (the page costs its slowest table, not their sum). Answers are remembered on
    the scope (one request's question), so the page's tables, built one by one, ask once."""
    memo = scope.__dict__.setdefault("_speed_memo", {})
    missing = [w for w in dict.fromkeys(wanted) if w not in memo]
    if missing:
        plans = {w: _groups(scope, w) for w in missing if w != DECAY}
        parts = {
            str(w): (scope.moment_in_period("first_touch_at"), SPEED_VALUES, None, plans[w][0]) for w in plans
        }
        if DECAY in missing:
            parts[DECAY] = _decay_part(scope)
        found = percentiles_grouped_each(parts, (0.5, 0.9), answers.of(scope))
        for w in missing:
            memo[w] = _decay_rows(found[DECAY]) if w == DECAY else _speed_rows(found[str(w)], w, plans[w][1])
    return {w: memo[w] for w in wanted}


def speed(scope: Scope, by: str | None = None) -> list[SpeedRow]:
    """Median and 90th percentile of the wait for the first touch, wall clock and business
    time, of the leads first touched in the period, overall (one row) or by ``by``: "rep"
    (the SDR who worked the lead), "team", "channel" or "week" (the local week of the first
    touch in the period's time zone). One query over the facts (and, by rep or team, one for
    the names of those found)."""
    return measure(scope, [by])[by]


def _speed_rows(found, by, labeller) -> list[SpeedRow]:
    key_label = labeller(found)
    rows = []
    for r in found:
        key, label = key_label(r.group)
        rows.append(
            SpeedRow(
                key,
                label,
                r.rows,
                _seconds(r.get(0.5, "wall")),
                _seconds(r.get(0.9, "wall")),
                _seconds(r.get(0.5, "business")),
                _seconds(r.get(0.9, "business")),
            )
        )
    return sorted(rows, key=_order(by))


# --- the decay curve -------------------------------------------------------------------------


class Bucket(NamedTuple):
    key: str
    label: str
    below: int | None  # seconds: the bucket holds waits under this (None: no upper bound)


MINUTE, HOUR = 60, 3600
DASH = "\u2013"  # an en dash between the bounds of a range
BUCKETS: tuple[Bucket, ...] = (
    Bucket("under_5m", "Under 5 min", 5 * MINUTE),
    Bucket("5_30m", f"5{DASH}30 min", 30 * MINUTE),
    Bucket("30_60m", f"30{DASH}60 min", HOUR),
    Bucket("1_4h", f"1{DASH}4 h", 4 * HOUR),
    Bucket("4_24h", f"4{DASH}24 h", 24 * HOUR),
    Bucket("over_24h", "Over 24 h", None),
    Bucket("never", "Never touched", None),
)


@dataclass(frozen=True)
class DecayRow:
    key: str
    label: str
    leads: int
    handed_off: int
    accepted: int
    won: int

    def _rate(self, count: int) -> float | None:
        return count / self.leads if self.leads else None

    @property
    def handed_off_rate(self) -> float | None:
        return self._rate(self.handed_off)

    @property
    def accepted_rate(self) -> float | None:
        return self._rate(self.accepted)

    @property
    def won_rate(self) -> float | None:
        return self._rate(self.won)


def _bucket() -> Case:
    """A lead's bucket by its wall-clock wait: lower bounds included, upper ones excluded."""
    text = CharField()
    whens = [When(first_touch_at__isnull=True, then=Value("never", output_field=text))]
    whens += [
        When(response_seconds__lt=b.below, then=Value(b.key, output_field=text))
        for b in BUCKETS
        if b.below is not None
    ]
    return Case(*whens, default=Value("over_24h", output_field=text))


def decay(scope: Scope) -> list[DecayRow]:
    """The cohort's leads that reached a rep's queue (MQL or routed), bucketed by how long
    they waited for the first touch (wall clock), with how many of each bucket were handed
    off, accepted and won; every bucket, empty ones too, in order (one grouped query, or a
    part of the page's one: ``measure``)."""
    return measure(scope, [DECAY])[DECAY]


def _decay_part(scope: Scope) -> tuple:
    reached = Q(mql_at__isnull=False) | Q(routed_at__isnull=False)
    counts = {
        "handed_off": Q(handed_off_at__isnull=False),
        "accepted": Q(accepted_at__isnull=False),
        "won": Q(won_at__isnull=False),
    }
    return scope.cohort().filter(reached), None, counts, {"bucket": _bucket()}


def _decay_rows(found) -> list[DecayRow]:
    by_bucket = {r.group["bucket"]: r for r in found}
    rows = []
    for b in BUCKETS:
        r = by_bucket.get(b.key)
        if r is None:
            rows.append(DecayRow(b.key, b.label, 0, 0, 0, 0))
        else:
            rows.append(
                DecayRow(
                    b.key, b.label, r.rows, r.counts["handed_off"], r.counts["accepted"], r.counts["won"]
                )
            )
    return rows
