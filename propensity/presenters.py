"""What the "Best customers" page shows: per model, the attributes that raise and lower the
odds with the outcomes behind each, and the suggested profile weights."""

import math
from dataclasses import dataclass

from django.conf import settings

from leads.models import FitCriterion, FitField, IdealCustomerProfile

from . import features
from .models import ModelVersion, Target

SHOWN = 8  # attributes shown each way
# Below this many outcomes an attribute's weight is mostly the regularisation: not shown.
MIN_OUTCOMES_SHOWN = 20


@dataclass(frozen=True)
class Attribute:
    words: str
    weight: float
    outcomes: int
    positives: int

    @property
    def odds(self) -> str:
        """How the odds change, as a reader says it: times 2.1, times 0.4 (a multiplication sign)."""
        return f"\N{MULTIPLICATION SIGN}{math.exp(self.weight):.1f}"

    @property
    def rate(self) -> str:
        return f"{self.positives / self.outcomes:.0%}" if self.outcomes else "—"


@dataclass(frozen=True)
class ModelSummary:
    """One target's active model (or why there is none)."""

    title: str
    target: str
    version: ModelVersion | None
    latest: ModelVersion | None  # the last run, when it learned nothing
    raising: list[Attribute]
    lowering: list[Attribute]

    @property
    def beats_fit(self) -> bool:
        return self.version is not None and self.version.beats_fit(settings.PROPENSITY_MIN_AUC_GAIN)


def _attributes(version: ModelVersion, reverse: bool = False) -> tuple[list[Attribute], list[Attribute]]:
    sign = -1.0 if reverse else 1.0
    shown = [
        Attribute(f.get("words", f["key"]), sign * float(f["weight"]), int(f["n"]), int(f["positives"]))
        for f in version.coefficients.get("features", [])
        if int(f["n"]) >= MIN_OUTCOMES_SHOWN
    ]
    if reverse:  # the positives counted are renewals; churns are the rest
        shown = [Attribute(a.words, a.weight, a.outcomes, a.outcomes - a.positives) for a in shown]
    raising = sorted((a for a in shown if a.weight > 0), key=lambda a: -a.weight)[:SHOWN]
    lowering = sorted((a for a in shown if a.weight < 0), key=lambda a: a.weight)[:SHOWN]
    return raising, lowering


def summaries() -> list[ModelSummary]:
    """The four readings (accepted, won, renewed, churned: the renewal model reversed) in two
    queries: the active versions and the latest run of each target."""
    versions = list(ModelVersion.objects.filter(is_active=True))
    active = {v.target: v for v in versions}
    latest = {t: ModelVersion.objects.filter(target=t).order_by("-trained_at", "-id").first() for t in Target}
    out = []
    for target, title, reverse in (
        (Target.ACCEPTED, "Becoming an accepted opportunity", False),
        (Target.WON, "Winning", False),
        (Target.RENEWED, "Renewing", False),
        (Target.RENEWED, "Churning", True),
    ):
        version = active.get(target)
        raising, lowering = _attributes(version, reverse) if version else ([], [])
        out.append(ModelSummary(title, target, version, latest.get(target), raising, lowering))
    return out


@dataclass(frozen=True)
class Suggestion:
    criterion: FitCriterion
    effect: float | None  # log-odds of matching it against not, None when the model cannot tell
    suggested: int

    @property
    def changes(self) -> bool:
        return self.suggested != self.criterion.points

    @property
    def lowers(self) -> bool:
        return self.effect is not None and self.effect < 0


@dataclass(frozen=True)
class Suggestions:
    version: ModelVersion | None
    profile: IdealCustomerProfile | None
    rows: list[Suggestion]
    # Models in use that do not beat the profile on held-out outcomes: nothing is suggested
    # from them (a model no better than the profile would rewrite it at random).
    not_better: tuple[ModelVersion, ...] = ()

    @property
    def any_change(self) -> bool:
        return any(r.changes for r in self.rows)


GROUP: dict[str, str] = {
    FitField.INDUSTRY: "industry",
    FitField.SENIORITY: "seniority",
    FitField.COUNTRY: "country",
    FitField.EMPLOYEES: "employees",
    FitField.ANNUAL_REVENUE: "revenue",
}


def _band_middle(field: str, label: str) -> float | None:
    """A band's typical value: the middle of its range (twice its floor for the top band)."""
    bands = features.EMPLOYEE_BANDS if field == FitField.EMPLOYEES else features.REVENUE_BANDS
    low = 0.0
    for edge, name, _ in bands:
        if name == label:
            return (low + edge) / 2 if edge is not None else low * 2
        low = float(edge) if edge is not None else low
    return None


def _matches(criterion: FitCriterion, key: str) -> bool:
    group, _, value = key.partition("=")
    if group != GROUP[criterion.field]:
        return False
    if criterion.field in (FitField.EMPLOYEES, FitField.ANNUAL_REVENUE):
        middle = _band_middle(criterion.field, value)
        if middle is None:
            return False
        low = float(criterion.minimum) if criterion.minimum is not None else -math.inf
        high = float(criterion.maximum) if criterion.maximum is not None else math.inf
        return low <= middle <= high
    return value in criterion.accepted


def effect(criterion: FitCriterion, version: ModelVersion) -> float | None:
    """The log-odds of a lead matching the criterion against one of the same field that does
    not: the mean weight of the matching features minus that of the others, each weighted by
    the outcomes behind it."""
    rows = [
        f
        for f in version.coefficients.get("features", [])
        if f["key"].split("=")[0] == GROUP[criterion.field]
    ]
    inside = [(float(f["weight"]), int(f["n"])) for f in rows if _matches(criterion, f["key"])]
    outside = [(float(f["weight"]), int(f["n"])) for f in rows if not _matches(criterion, f["key"])]

    def mean(pairs):
        total = sum(n for _, n in pairs)
        return sum(w * n for w, n in pairs) / total if total else None

    a, b = mean(inside), mean(outside)
    return None if a is None or b is None else a - b


def suggestions() -> Suggestions:
    """Suggested points for the active profile's criteria, from the won model (else the
    accepted one), whichever first beats the profile's fit score on held-out outcomes: the
    profile's total points shared out in proportion to the criteria whose match raises the
    odds; a criterion whose match lowers them gets one point."""
    in_use = [v for v in (ModelVersion.objects.active(t) for t in (Target.WON, Target.ACCEPTED)) if v]
    better = [v for v in in_use if v.beats_fit(settings.PROPENSITY_MIN_AUC_GAIN)]
    version = better[0] if better else None
    not_better = tuple(v for v in in_use if v not in better)
    profile = IdealCustomerProfile.objects.filter(is_active=True).first()
    criteria = list(profile.criteria.all()) if profile else []
    if version is None or profile is None:
        return Suggestions(version, profile, [], not_better)
    effects = {c.pk: effect(c, version) for c in criteria}
    total = sum(c.points for c in criteria)
    positive = sum(e for e in effects.values() if e is not None and e > 0)
    rows = []
    for c in criteria:
        e = effects[c.pk]
        if e is None:
            suggested = c.points
        elif e <= 0:
            suggested = 1
        else:
            suggested = max(1, round(total * e / positive))
        rows.append(Suggestion(c, e, suggested))
    return Suggestions(version, profile, rows, not_better)
