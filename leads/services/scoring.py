"""The scoring configuration as captures read it, and the writes that re-score every lead:
a changed ideal-customer profile (``recompute_fit_scores``) and a changed engagement half-life
(``change_half_life``). An edit of the configuration by hand (the admin) goes through
``profile_changed``, ``save_scoring_settings`` or ``activity_weights_changed``, which say what
it sets off once committed. The arithmetic itself lives in ``leads.scoring``."""

import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.db.models.lookups import Exact
from django.utils import timezone

from ..models import (
    DEFAULT_ACTIVITY_POINTS,
    NO_ENGAGEMENT,
    ActivityWeight,
    FitCriterion,
    Lead,
    LeadEvent,
    ScoringSettings,
)
from ..scoring import (
    EPOCH,
    SECONDS_PER_DAY,
    engagement_value,
    fit_grade_expression,
    fit_score_expression,
)
from ..scoring import active_criteria as load_criteria

SCORING_VERSION_KEY = "leads:scoring-version"
SCORING_CACHE_SECONDS = 300
_scoring_cache: dict[str, tuple[str | None, float, "ScoringContext"]] = {}


def scoring_changed() -> None:
    """Tell every process that the scoring configuration changed (call it on commit)."""
    cache.set(SCORING_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def profile_changed(*, then: Callable[[bool], None] | None = None) -> None:
    """The ideal-customer profile or its criteria were saved or deleted: call it inside the
    transaction that changed them. Once that commits, every process re-reads the scoring
    configuration and a worker re-scores every lead (``recompute_fit_scores``, set-based).
    ``then`` is told, after the commit, whether the re-score was queued: False when the broker
    is unreachable, and the scores stay as they were until the profile is saved again. Nothing
    happens if the transaction rolls back."""
    from kit.broker import send

    from ..tasks import recompute_fit_scores

    def rescore() -> None:
        scoring_changed()
        queued = send(recompute_fit_scores)
        if then is not None:
            then(queued)

    transaction.on_commit(rescore)


@dataclass(frozen=True)
class HalfLifeChange:
    """A half-life edited by hand: from ``old`` to ``new`` days, and whether the worker that
    applies it (re-keying every lead) was reached."""

    old: float
    new: float
    queued: bool


def save_scoring_settings(
    *,
    settings: ScoringSettings,
    changed: Collection[str],
    then: Callable[[HalfLifeChange], None] | None = None,
) -> None:
    """Save the scoring settings as edited by hand; ``changed`` names the fields edited on the
    existing row (none for the first save). Every field is saved as edited but the half-life:
    the row keeps the old one, and once this commits a worker applies the new one together
    with re-keying every lead's engagement (``change_half_life``), in one transaction, so
    nobody's engagement changes today. ``then`` hears, after the commit, whether that worker
    was reached (a broker outage leaves the old half-life). Once committed, every process
    re-reads the scoring configuration."""
    from kit.broker import send

    from ..tasks import change_half_life as change_half_life_task

    if "half_life_days" in changed:
        old = ScoringSettings.objects.get(pk=settings.pk).half_life_days
        new = settings.half_life_days
        settings.half_life_days = old  # applied with the re-key, in one transaction
        settings.save()

        def rekey() -> None:
            queued = send(change_half_life_task, new)
            if then is not None:
                then(HalfLifeChange(old=old, new=new, queued=queued))

        transaction.on_commit(rekey)
    else:
        settings.save()
    transaction.on_commit(scoring_changed)


def activity_weights_changed() -> None:
    """An activity's weight was saved or deleted: call it inside that transaction. Once it
    commits, every process re-reads the weights; the points already earned stay (engagement
    counts each activity at the weight it had when it happened)."""
    transaction.on_commit(scoring_changed)


@dataclass
class ScoringContext:
    """What scoring a capture needs: settings, the profile's criteria and activity weights.

    Read on every capture, changed a few times a year: each process keeps a copy, checked
    against a version stamp in the shared cache (one cache read instead of four queries) and
    re-read at least every few minutes. ``scoring_changed()`` bumps the stamp.
    """

    settings: ScoringSettings
    criteria: list[FitCriterion]
    weights: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, *, fresh: bool = False) -> "ScoringContext":
        if fresh:
            return cls._from_database()
        version = cache.get_or_set(SCORING_VERSION_KEY, lambda: uuid.uuid4().hex, timeout=None)
        cached = _scoring_cache.get("context")
        if cached and cached[0] == version and time.monotonic() - cached[1] < SCORING_CACHE_SECONDS:
            return cached[2]
        context = cls._from_database()
        _scoring_cache["context"] = (version, time.monotonic(), context)
        return context

    @classmethod
    def _from_database(cls) -> "ScoringContext":
        weights: dict[str, float] = {k: float(v) for k, v in DEFAULT_ACTIVITY_POINTS.items()}
        weights.update(ActivityWeight.objects.values_list("kind", "points"))
        return cls(settings=ScoringSettings.load(), criteria=load_criteria(), weights=weights)

    def points_for(self, kind: str) -> float:
        return self.weights.get(kind, 0.0)

    def is_mql(self, lead: Lead, now: datetime) -> bool:
        if lead.hand_raiser:
            return True
        value = engagement_value(lead.engagement_key, now, self.settings.half_life_days)
        return value >= self.settings.mql_threshold


def recompute_fit_scores(*, batch_size: int = 50_000, now: datetime | None = None) -> int:
    """Re-score every lead against the active profile, set-based, in primary-key ranges so
    no single transaction holds the whole table. Only the leads whose score changes are
    written; each whose grade changes also gets a "details updated" event saying so, in the
    same transaction, so its timeline says why it moved in the queue and the insight facts
    (which follow lead events) show the new grade within a minute. Returns the number of
    leads re-scored: a re-run with the same profile writes nothing."""
    now = now or timezone.now()
    criteria = load_criteria()
    score = fit_score_expression(criteria)
    grade = fit_grade_expression(score)
    bounds = Lead.objects.order_by("pk").values_list("pk", flat=True)
    first, last = bounds.first(), bounds.last()
    if first is None:
        return 0
    rescored = 0
    for low in range(first, last + 1, batch_size):  # type: ignore[operator]  # a first row implies a last
        batch = Lead.objects.filter(pk__gte=low, pk__lt=low + batch_size).order_by()
        with transaction.atomic():
            _insert_regraded_events(batch.exclude(Exact(F("fit_grade"), grade)), grade, now)
            rescored += batch.exclude(Exact(F("fit_score"), score), Exact(F("fit_grade"), grade)).update(
                fit_score=score, fit_grade=grade, updated_at=now
            )
    return rescored


def _insert_regraded_events(leads, grade, now: datetime) -> None:
    """One INSERT ... SELECT of the events of the leads whose grade changes. The leads are
    locked as they are read (PostgreSQL; SQLite's writer holds the database), so the grade
    the event names as the old one is the one the UPDATE after it replaces."""
    message = Concat(
        Value("Fit grade "),
        F("fit_grade"),
        Value(" → "),
        grade,
        Value(": the ideal-customer profile changed."),
    )
    select, params = leads.select_for_update().values("id", regraded=message).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LeadEvent._meta.db_table} (lead_id, kind, at, via, from_status, to_status, message)"
            f" SELECT r.id, %s, %s, '', '', '', r.regraded FROM ({select}) r",
            [str(LeadEvent.Kind.UPDATED), connection.ops.adapt_datetimefield_value(now), *params],
        )


def change_half_life(*, new_half_life_days: float, now: datetime | None = None) -> int:
    """Change the engagement half-life without changing anyone's engagement today: every key
    is rewritten on the new time base in the same transaction as the setting."""
    now = now or timezone.now()
    elapsed_days = (now - EPOCH).total_seconds() / SECONDS_PER_DAY
    with transaction.atomic():
        settings = ScoringSettings.objects.select_for_update().get(pk=ScoringSettings.load().pk)
        old = settings.half_life_days
        if old == new_half_life_days:
            return 0
        # log2(value today) = key - elapsed/old, so the new key adds elapsed/new back.
        shift = elapsed_days / new_half_life_days - elapsed_days / old
        rekeyed = Lead.objects.filter(engagement_key__gt=NO_ENGAGEMENT).update(
            engagement_key=F("engagement_key") + shift
        )
        settings.half_life_days = new_half_life_days
        settings.save(update_fields=["half_life_days", "updated_at"])
        transaction.on_commit(scoring_changed)
    return rekeyed
