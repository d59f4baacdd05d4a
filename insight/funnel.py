"""The funnel: how many leads reach each stage, how many convert to the next and how long it
takes, sliced by where they came from and who worked them, and where they fall out and why.

Two views of a period. A *cohort* follows the leads first seen in the period (an imported
lead when its source system first saw the person) to today: a lead
counts at a stage if it ever reached it (its first moment there is recorded), whatever came
after, so a lead won and later churned still counts as won. A *flow* counts what happened in
the period: the leads whose first moment at a stage falls in it, whatever their capture date.

Every function is one query over ``LeadFact`` (counts and medians in SQL; see
``insight.stats`` for the percentiles on both databases); the cohort and the flow share one,
asked once per ``Scope`` (a scope is one request's question: build a new one after the facts
change). Rows are counted with ``COUNT(1)``
(``rows_counted``) so that, with the covering indexes on the moments, PostgreSQL reads only the
period's slice of an index, never the whole table.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise
from typing import NamedTuple

from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from leads.models import Channel, Lead

from . import answers
from .models import LeadFact
from .scope import Scope
from .stats import Seconds, percentiles_grouped_each, rows_counted


class Stage(NamedTuple):
    key: str
    label: str
    field: str


STAGES: tuple[Stage, ...] = (
    # The first stage keeps its key ("captured") for the API; its moment is when the person
    # was first seen (an imported lead's source created date), as the cohort's.
    Stage("captured", "First seen", "first_seen_at"),
    Stage("mql", "MQL or hand-raiser", "mql_at"),
    Stage("worked", "Worked (first touch)", "first_touch_at"),
    Stage("handed_off", "Handed off", "handed_off_at"),
    Stage("accepted", "Accepted by an AE", "accepted_at"),
    Stage("won", "Won", "won_at"),
)
STAGE_KEYS = tuple(s.key for s in STAGES)
STAGE_LABELS = {s.key: s.label for s in STAGES}


@dataclass(frozen=True)
class StageRow:
    key: str
    label: str
    count: int
    conversion: float | None  # share of the previous stage's count; None for the first or after 0
    median_from_previous: timedelta | None  # over the leads that reached both stages


def _seconds(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def _rows(counts: dict[str, int], medians: dict[str, float | None], *, conversions: bool) -> list[StageRow]:
    rows = []
    previous = None
    for stage in STAGES:
        count = counts[stage.key]
        conversion = None
        if conversions and previous is not None and previous > 0:
            conversion = count / previous
        rows.append(StageRow(stage.key, stage.label, count, conversion, _seconds(medians.get(stage.key))))
        previous = count
    return rows


def _steps():
    """Each stage after the first with the stage before it."""
    return pairwise(STAGES)


def _stages(scope: Scope, slice_by: str | None = None) -> dict:
    """The cohort's and the flow's figures (and, asked, the cohort by a slice) in one
    statement, remembered on the scope (one request's question: the funnel page and the API
    show them all): the cohort's counts and medians over the leads captured in the period,
    one part per later stage over the leads whose moment there falls in the period, each
    read from that moment's own index, and the slice's counts; PostgreSQL runs the parts side
    by side. The flow's *captured* is the cohort's size: the same leads, counted once."""
    memo = scope.__dict__.setdefault("_funnel_memo", {})
    parts: dict[str, tuple] = {}
    if "stages" not in memo:
        parts["cohort"] = (
            scope.cohort(),
            {stage.key: Seconds(stage.field, previous.field) for previous, stage in _steps()},
            {stage.key: Q(**{f"{stage.field}__isnull": False}) for stage in STAGES[1:]},
            None,
        )
        for previous, stage in _steps():
            parts[stage.key] = (
                scope.moment_in_period(stage.field),
                Seconds(stage.field, previous.field),
                None,
                None,
            )
    if slice_by is not None and ("slice", slice_by) not in memo:
        parts["slice"] = _slice_part(scope, slice_by)
    if parts:
        found = percentiles_grouped_each(parts, (0.5,), answers.of(scope))
        if "stages" not in memo:
            memo["stages"] = {name: rows[0] for name, rows in found.items() if name != "slice"}
        if "slice" in found:
            memo[("slice", slice_by)] = _slice_rows(found["slice"], slice_by)  # type: ignore[arg-type]  # a slice was asked
    return memo


def prepare(scope: Scope, slice_by: str) -> None:
    """Ask the funnel page's stage tables and its slice in one statement (the page calls
    this before building its tables one by one)."""
    _stages(scope, slice_by)


def cohort(scope: Scope) -> list[StageRow]:
    """The leads captured in the period, followed to today: the count at each stage, the
    conversion from the previous stage and the median time from it."""
    row = _stages(scope)["stages"]["cohort"]
    counts = {"captured": row.rows, **row.counts}
    return _rows(counts, {key: row.get(0.5, key) for key in row.values}, conversions=True)


def flow(scope: Scope) -> list[StageRow]:
    """What happened in the period: per stage, the leads whose first moment there falls in
    it, whatever their capture date, and the median time it took them from the previous
    stage. No conversion: the counts are of different leads."""
    found = _stages(scope)["stages"]
    counts = {"captured": found["cohort"].rows, **{key: found[key].rows for key in STAGE_KEYS[1:]}}
    return _rows(counts, {key: found[key].get(0.5) for key in STAGE_KEYS[1:]}, conversions=False)


# --- slices ----------------------------------------------------------------------------------

NOBODY = "Unassigned"


def _person(first: str | None, last: str | None, username: str | None) -> str:
    if username is None:
        return NOBODY
    return f"{first or ''} {last or ''}".strip() or username


def _choice(labels: dict, empty: str):
    return lambda key, *_: labels.get(key, key) if key else empty


class Slice(NamedTuple):
    title: str
    key: str  # the LeadFact field the slice groups by
    names: tuple[str, ...]  # fields joined for the label, read in the same query
    label: Callable[..., str]  # (key, *names) -> the label a person reads


SLICES: dict[str, Slice] = {
    "campaign": Slice("Campaign", "campaign", ("campaign__name",), lambda key, name: name or "No campaign"),
    "channel": Slice("Channel", "channel", (), _choice(dict(Channel.choices), "No channel")),
    "source": Slice("Source", "source", (), _choice(dict(Channel.choices), "No source")),
    "team": Slice("Team", "team", ("team__name",), lambda key, name: name or "No team"),
    "sdr": Slice(
        "SDR",
        "sdr",
        ("sdr__first_name", "sdr__last_name", "sdr__username"),
        lambda key, *names: _person(*names),
    ),
    "origin": Slice("Inbound or outbound", "origin", (), _choice(dict(LeadFact.Origin.choices), "Unknown")),
    "fit_grade": Slice("Fit grade", "fit_grade", (), lambda key: key or "Not graded"),
}


@dataclass(frozen=True)
class SliceRow:
    key: object  # what to filter on (a campaign id, a channel, a grade...); None for none
    label: str
    counts: dict[str, int]  # stage key -> leads of the cohort that reached it

    def conversion(self, stage: str, since: str = "captured") -> float | None:
        """The share of the leads at ``since`` that reached ``stage`` (None if none were)."""
        base = self.counts[since]
        return self.counts[stage] / base if base else None


def by_slice(scope: Scope, by: str) -> list[SliceRow]:
    """The cohort's stage counts per campaign, channel, source, team, SDR, origin or fit
    grade, largest first, labels joined in the same query (one query, or a part of the
    page's: ``prepare``)."""
    return _stages(scope, by)[("slice", by)]


def _slice_part(scope: Scope, by: str) -> tuple:
    spec = SLICES[by]
    groups = {"slice_key": F(spec.key), **{f"slice_name{i}": F(name) for i, name in enumerate(spec.names)}}
    counts = {s.key: Q(**{f"{s.field}__isnull": False}) for s in STAGES[1:]}
    return scope.cohort(), None, counts, groups


def _slice_rows(found, by: str) -> list[SliceRow]:
    spec = SLICES[by]
    rows = [
        SliceRow(
            key=r.group["slice_key"],
            label=spec.label(*r.group.values()),
            counts={"captured": r.rows, **r.counts},
        )
        for r in found
    ]
    return sorted(rows, key=lambda r: (-r.counts["captured"], r.label))


# --- where leads fall out ------------------------------------------------------------------

OUTCOMES = {
    "disqualified": "Disqualified",
    "nurtured": "Sent back to nurture",
    "rejected": "Rejected by the AE",
    "lost": "Lost",
    "lost_early": "Lost early",
}


@dataclass(frozen=True)
class DispositionRow:
    stage: str  # the stage the leads were in when they fell out
    outcome: str  # a key of OUTCOMES
    reason: str
    count: int

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[self.stage]

    @property
    def outcome_label(self) -> str:
        return OUTCOMES[self.outcome]


def _text(value: str) -> Value:
    return Value(value, output_field=CharField())


def _grouped(facts: QuerySet, stage, outcome, reason) -> QuerySet:
    return (
        facts.order_by()
        .annotate(d_stage=stage, d_outcome=outcome, d_reason=reason)
        .values("d_stage", "d_outcome", "d_reason")
        .annotate(d_count=rows_counted())
    )


def dispositions(scope: Scope) -> list[DispositionRow]:
    """Where the cohort's leads fell out and why (one query, three grouped parts):

    - taken out of sales (disqualified, or sent back to nurture: ``closed_out_at``) in the
      furthest stage they had reached by then, with the SDR's reason; which of the two is
      where that close-out sent the lead (``close_out_status``), not its status now (a lead
      nurtured, later handed off, lost and recycled is still *nurtured* here);
    - rejected by the AE (in the handed-off stage) with the AE's reason;
    - lost after acceptance with the reason, a loss soon after acceptance counted as *lost
      early* (not also as lost).

    A lead can fall out more than once (rejected, handed off again, then lost) and counts in
    each. Largest first within each stage, stages in funnel order.
    """
    facts = scope.cohort()
    closed = Q(closed_out_at__isnull=False)
    stage_then = Case(
        When(accepted_at__lte=F("closed_out_at"), then=_text("accepted")),
        When(handed_off_at__lte=F("closed_out_at"), then=_text("handed_off")),
        When(first_touch_at__lte=F("closed_out_at"), then=_text("worked")),
        When(mql_at__lte=F("closed_out_at"), then=_text("mql")),
        default=_text("captured"),
    )
    closed_out = _grouped(
        facts.filter(closed),
        stage_then,
        Case(
            When(close_out_status=Lead.Status.DISQUALIFIED, then=_text("disqualified")),
            default=_text("nurtured"),
        ),
        F("close_out_reason"),
    )
    rejected = _grouped(
        facts.filter(rejected_at__isnull=False), _text("handed_off"), _text("rejected"), F("reject_reason")
    )
    lost = _grouped(
        facts.filter(lost_at__isnull=False),
        _text("accepted"),
        Case(When(early_loss=True, then=_text("lost_early")), default=_text("lost")),
        F("lost_reason"),
    )
    rows = [
        DispositionRow(r["d_stage"], r["d_outcome"], r["d_reason"] or "", r["d_count"])
        for r in answers.values(closed_out.union(rejected, lost, all=True), answers.of(scope))
    ]
    outcome_order = list(OUTCOMES)
    return sorted(
        rows,
        key=lambda r: (STAGE_KEYS.index(r.stage), outcome_order.index(r.outcome), -r.count, r.reason),
    )


def dropped(scope: Scope, days: int, now=None) -> QuerySet[LeadFact]:
    """Leads dropped on the floor: in a sales status (MQL, working) and idle for more than
    ``days`` days, idle since their last touch or, never touched, since they reached a rep
    (routed, else MQL). Not cut to the period: a dropped lead is dropped whenever it came
    in. Annotated with ``idle_since``, the longest idle first."""
    now = now or timezone.now()
    return (
        scope.facts.filter(status__in=(Lead.Status.MQL, Lead.Status.WORKING))
        .annotate(idle_since=Coalesce("last_touch_at", "routed_at", "mql_at", "captured_at"))
        .filter(idle_since__lt=now - timedelta(days=days))
        .order_by("idle_since", "lead_id")
    )
