"""Fit and engagement scoring.

**Engagement** decays with a half-life. Storing today's value would mean rewriting every lead
every day. Instead each lead stores a key on a fixed time base::

    key = log2(points) + (t - EPOCH) / half_life

Decaying by time ``d`` subtracts ``d / half_life`` from log2(points) and the time term adds
exactly as much back, so the key never changes while the lead is quiet. Consequences:

* ordering by the stored key is ordering by today's decayed engagement (an index serves it);
* today's value is exact on read: ``2 ** (key - (now - EPOCH) / half_life)``;
* "engagement >= T today" is ``key >= log2(T) + (now - EPOCH) / half_life``: a range scan,
  so the threshold sweep visits only the leads that crossed.

A lead with no points has the sentinel key ``NO_ENGAGEMENT`` (log2(0) is -inf).

**Fit** is points from the active ideal-customer profile, scaled to 0..100. It is computed
per lead in Python (capture, the explanation on the lead page) and for all leads at once in
SQL (``fit_score_expression``) when the profile changes; both follow the same rules.
"""

import math
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Case, ExpressionWrapper, IntegerField, Q, Value, When
from django.db.models.expressions import Combinable
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from .models import (
    NO_ENGAGEMENT,
    NUMERIC_FIT_FIELDS,
    FitCriterion,
    FitField,
    IdealCustomerProfile,
    ScoringSettings,
    Seniority,
)

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
SECONDS_PER_DAY = 86_400.0
_MAX_EXPONENT = 1023.0  # 2.0 ** 1024 overflows a float

# Today's engagement value at or above which a lead gets digit 1, 2, 3 (else 4).
ENGAGEMENT_DIGITS = ((1, 60.0), (2, 30.0), (3, 10.0))
# Fit score at or above which a lead gets letter A, B, C (else D).
FIT_LETTERS = (("A", 75), ("B", 50), ("C", 25))


def _half_lives_since_epoch(now: datetime, half_life_days: float) -> float:
    return (now - EPOCH).total_seconds() / (half_life_days * SECONDS_PER_DAY)


def _half_life(half_life_days: float | None) -> float:
    return half_life_days if half_life_days is not None else ScoringSettings.load().half_life_days


def engagement_key(points: float, at: datetime, half_life_days: float | None = None) -> float:
    """The stored key for ``points`` of engagement as of ``at``."""
    if points <= 0:
        return NO_ENGAGEMENT
    return math.log2(points) + _half_lives_since_epoch(at, _half_life(half_life_days))


def engagement_value(key: float, now: datetime | None = None, half_life_days: float | None = None) -> float:
    """Today's decayed engagement for a stored key."""
    if key <= NO_ENGAGEMENT:
        return 0.0
    now = now or timezone.now()
    exponent = key - _half_lives_since_epoch(now, _half_life(half_life_days))
    # A key far ahead of ``now`` (points dated long after it) is more engagement than a float
    # holds: the largest one, not an OverflowError.
    return 2.0**exponent if exponent < _MAX_EXPONENT else sys.float_info.max


def threshold_key(value: float, now: datetime | None = None, half_life_days: float | None = None) -> float:
    """The key above which a lead's engagement is at least ``value`` at ``now``."""
    now = now or timezone.now()
    return math.log2(value) + _half_lives_since_epoch(now, _half_life(half_life_days))


def add_engagement(key: float, points: float, at: datetime, half_life_days: float | None = None) -> float:
    """The new key after ``points`` arrive at ``at`` (the points already there decayed to
    ``at``).

    Computed in log space: ``log2(2**a + 2**b) = max + log2(1 + 2**(min - max))``. Going
    through the plain value (``2**a``) overflows when ``at`` lies many half-lives before the
    points already there (an activity dated years back on a lead engaged today)."""
    hl = _half_life(half_life_days)
    if key <= NO_ENGAGEMENT:
        return engagement_key(points, at, hl)
    if points <= 0:
        return key
    time_term = _half_lives_since_epoch(at, hl)
    held, added = key - time_term, math.log2(points)  # log2 of each amount as of ``at``
    high, low = max(held, added), min(held, added)
    return high + math.log2(1.0 + 2.0 ** (low - high)) + time_term


def remove_engagement(key: float, points: float, at: datetime, half_life_days: float | None = None) -> float:
    """The key after taking back ``points`` that arrived at ``at`` (undoing an activity): the
    inverse of ``add_engagement``, in log space as well. Nothing left (or less than rounding
    leaves) is ``NO_ENGAGEMENT``."""
    if key <= NO_ENGAGEMENT or points <= 0:
        return key
    taken = engagement_key(points, at, half_life_days)
    # 2**key - 2**taken, as log2: key + log2(1 - 2**(taken - key)).
    if taken >= key - 1e-9:
        return NO_ENGAGEMENT
    return key + math.log2(1.0 - 2.0 ** (taken - key))


def engagement_digit(key: float, now: datetime | None = None, half_life_days: float | None = None) -> int:
    value = engagement_value(key, now, half_life_days)
    for digit, floor in ENGAGEMENT_DIGITS:
        if value >= floor:
            return digit
    return 4


def digit_key_range(
    digit: int, now: datetime | None = None, half_life_days: float | None = None
) -> tuple[float | None, float | None]:
    """The [low, high) key range of an engagement digit today, for filtering by grade.
    ``None`` means unbounded."""
    floors = dict(ENGAGEMENT_DIGITS)
    hl = _half_life(half_life_days)
    low = threshold_key(floors[digit], now, hl) if digit in floors else None
    high = threshold_key(floors[digit - 1], now, hl) if digit - 1 in floors else None
    return low, high


def fit_letter(score: int) -> str:
    for letter, floor in FIT_LETTERS:
        if score >= floor:
            return letter
    return "D"


# --- fit -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionResult:
    """One line of a lead's fit explanation."""

    criterion: FitCriterion
    lead_value: str
    matched: bool

    @property
    def points(self) -> int:
        return self.criterion.points if self.matched else 0


@dataclass(frozen=True)
class FitResult:
    score: int
    grade: str
    results: tuple[CriterionResult, ...]
    max_points: int


def active_criteria() -> list[FitCriterion]:
    profile = IdealCustomerProfile.objects.filter(is_active=True).first()
    return list(profile.criteria.all()) if profile else []


def _display(field: str, value) -> str:
    if value is None or value == "":
        return "unknown"
    if field == FitField.SENIORITY:
        return str(Seniority(value).label)
    if isinstance(value, Decimal | int):
        return f"{value:,.0f}"
    return str(value)


def _matches(criterion: FitCriterion, value) -> bool:
    if value is None or value == "":
        return False
    if criterion.field in NUMERIC_FIT_FIELDS:
        value = Decimal(value)
        if criterion.minimum is not None and value < criterion.minimum:
            return False
        return not (criterion.maximum is not None and value > criterion.maximum)
    return value in criterion.accepted


def fit_of(lead, criteria: list[FitCriterion]) -> tuple[int, str]:
    """``compute_fit``'s score and grade alone, without the per-criterion explanation: what a
    writer of many leads at once (an import) stores."""
    max_points = sum(c.points for c in criteria)
    if not max_points:
        return 0, fit_letter(0)
    score = 100 * sum(c.points for c in criteria if _matches(c, getattr(lead, c.field))) // max_points
    return score, fit_letter(score)


def compute_fit(lead, criteria: list[FitCriterion] | None = None) -> FitResult:
    """Score one lead against the profile, criterion by criterion."""
    criteria = active_criteria() if criteria is None else criteria
    results = tuple(
        CriterionResult(c, _display(c.field, getattr(lead, c.field)), _matches(c, getattr(lead, c.field)))
        for c in criteria
    )
    max_points = sum(c.points for c in criteria)
    # Floor division, exactly as the SQL expression's integer division computes it.
    score = 100 * sum(r.points for r in results) // max_points if max_points else 0
    return FitResult(score=score, grade=fit_letter(score), results=results, max_points=max_points)


def _criterion_q(criterion: FitCriterion) -> Q:
    if criterion.field in NUMERIC_FIT_FIELDS:
        q = Q(**{f"{criterion.field}__isnull": False})
        if criterion.minimum is not None:
            q &= Q(**{f"{criterion.field}__gte": criterion.minimum})
        if criterion.maximum is not None:
            q &= Q(**{f"{criterion.field}__lte": criterion.maximum})
        return q
    return Q(**{f"{criterion.field}__in": criterion.value_list()})


def fit_score_expression(criteria: list[FitCriterion]):
    """A SQL expression computing ``compute_fit(...).score`` for every row at once."""
    max_points = sum(c.points for c in criteria)
    if not max_points:
        return Value(0, output_field=IntegerField())
    total: Combinable = Value(0, output_field=IntegerField())
    for c in criteria:
        total = total + Case(When(_criterion_q(c), then=Value(c.points)), default=Value(0))
    return ExpressionWrapper(total * Value(100) / Value(max_points), output_field=IntegerField())


def fit_grade_expression(score_expression):
    """The fit letter for a score expression (same thresholds as ``fit_letter``)."""
    return Case(
        *[
            When(GreaterThanOrEqual(score_expression, floor), then=Value(letter))
            for letter, floor in FIT_LETTERS
        ],
        default=Value("D"),
    )
