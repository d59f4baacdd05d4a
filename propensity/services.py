"""Training, activating (and rolling back) model versions, writing every open lead's
probability, and applying the suggested ideal-customer-profile weights."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from kit.errors import Refused
from leads import services as lead_services
from leads.models import Campaign, FitCriterion, Lead, ScoringSettings

from . import features, history, learning
from .models import ModelVersion, Target
from .scorer import active_changed

CHUNK = 50_000


class PropensityRefused(Refused):
    """A model version cannot be used as asked."""


@dataclass
class Encoded:
    """A target's closed history as feature indices (``features.encode``), oldest first."""

    indices: np.ndarray
    y: np.ndarray
    fit: np.ndarray
    moments: np.ndarray  # seconds since the epoch
    vocab: features.Vocabulary


def read_history(target: str, chunk: int = CHUNK) -> Encoded:
    """Read the target's history a chunk at a time, each chunk encoded at once: what stays in
    memory is the index matrix and three columns, never the rows."""
    vocab = features.Vocabulary()
    parts, ys, fits, moments = [], [], [], []
    rows_iter = history.outcomes(target).iterator(chunk_size=chunk)
    width = features.N_COLUMNS
    while rows := list(islice(rows_iter, chunk)):
        parts.append(features.encode([r[:width] for r in rows], vocab, grow=True).astype(np.int32))
        fits.append(np.fromiter((r[width] for r in rows), dtype=np.float64, count=len(rows)))
        ys.append(np.fromiter((r[width + 1] for r in rows), dtype=np.int8, count=len(rows)))
        moments.append(
            np.fromiter((r[width + 2].timestamp() for r in rows), dtype=np.float64, count=len(rows))
        )
    if not parts:
        empty = np.empty(0)
        return Encoded(np.empty((0, width), dtype=np.int32), empty.astype(np.int8), empty, empty, vocab)
    return Encoded(
        np.concatenate(parts), np.concatenate(ys), np.concatenate(fits), np.concatenate(moments), vocab
    )


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def train(*, target: str, activate: bool = True, now: datetime | None = None) -> ModelVersion:
    """Train one target's model on its closed history and keep the version, whatever happens.

    The newest ``PROPENSITY_HOLDOUT_SHARE`` of the outcomes is held out: the model learns from
    the rest, and its AUC, Brier score and calibration on the held-out part are stored beside
    the fit score's AUC on the same rows. Fewer than ``PROPENSITY_MIN_OUTCOMES`` outcomes of
    either kind (or a held-out part with one kind only) makes a "too little history" version
    with the counts, and the model in use (or the fit score) stays. A ready version becomes
    the active one when ``activate`` (the nightly run), and the open leads are re-scored."""
    started = time.monotonic()
    data = read_history(target)
    n = len(data.y)
    split = round(n * (1 - settings.PROPENSITY_HOLDOUT_SHARE))
    y_train, y_held = data.y[:split], data.y[split:]
    version = ModelVersion(
        target=target,
        trained_at=now or timezone.now(),
        train_outcomes=split,
        train_positives=int(y_train.sum()),
        held_out_outcomes=n - split,
        held_out_positives=int(y_held.sum()),
        history_from=_moment(data.moments[0]) if n else None,
        held_out_from=_moment(data.moments[split]) if split < n else None,
        history_to=_moment(data.moments[-1]) if n else None,
    )
    positives = int(data.y.sum())
    enough = min(positives, n - positives) >= settings.PROPENSITY_MIN_OUTCOMES
    if not enough or len(np.unique(y_train)) < 2 or len(np.unique(y_held)) < 2:
        version.status = ModelVersion.Status.TOO_LITTLE
        version.seconds = time.monotonic() - started
        version.save()
        return version

    # Features seen too rarely in training are left out (their weight would be noise).
    valid = data.indices[:split][data.indices[:split] >= 0]
    counts = np.bincount(valid, minlength=len(data.vocab))
    keep = counts >= settings.PROPENSITY_MIN_FEATURE_COUNT
    vocab = data.vocab.keep(keep)
    x = features.to_matrix(features.remap(data.indices, keep), len(vocab))
    del data.indices
    fitted = learning.fit(x[:split], y_train)
    p_held = learning.sigmoid(learning.log_odds(x[split:], fitted.intercept, fitted.weights))
    version.status = ModelVersion.Status.READY
    version.auc = learning.auc(y_held, p_held)
    version.fit_auc = learning.auc(y_held, data.fit[split:])
    version.brier = learning.brier(y_held, p_held)
    version.calibration = learning.calibration(y_held, p_held)
    seen = np.asarray(x.sum(axis=0)).ravel()
    won = np.asarray(x.T @ data.y.astype(np.float64)).ravel()
    words = features.words_for(vocab.keys, _campaign_names(vocab.keys))
    version.coefficients = {
        "intercept": fitted.intercept,
        "features": [
            {"key": k, "words": words[k], "weight": float(w), "n": int(s), "positives": int(p)}
            for k, w, s, p in zip(vocab.keys, fitted.weights, seen, won, strict=True)
        ],
    }
    version.seconds = time.monotonic() - started
    version.save()
    if activate:
        activate_version(version=version)
    return version


def _campaign_names(keys) -> dict[int, str]:
    ids = [int(k.split("=", 1)[1]) for k in keys if k.startswith("campaign=")]
    return dict(Campaign.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def train_all(*, now: datetime | None = None) -> list[ModelVersion]:
    """The nightly run: every target, the accepted model last so the leads are re-scored by
    the freshest of everything."""
    return [train(target=t, now=now) for t in (Target.WON, Target.RENEWED, Target.ACCEPTED)]


@dataclass(frozen=True)
class Activation:
    version: ModelVersion
    rescored: int
    queue_switched_off: bool


def activate_version(*, version: ModelVersion) -> Activation:
    """Make ``version`` its target's active model (a new one, or an older one: a roll back).

    The one active version per target changes in one transaction; if the queue ordered by the
    learned probability and this version does not beat the fit score, the switch goes off in
    the same transaction. Then, for the accepted target, every open lead's probability is
    rewritten by it (``rescore_open_leads``)."""
    if version.status != ModelVersion.Status.READY:
        raise PropensityRefused("A version trained on too little history cannot be used.")
    with transaction.atomic():
        ModelVersion.objects.select_for_update().filter(target=version.target).exclude(pk=version.pk).filter(
            is_active=True
        ).update(is_active=False)
        ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
        version.is_active = True
        switched_off = False
        if version.target == Target.ACCEPTED and not version.beats_fit(settings.PROPENSITY_MIN_AUC_GAIN):
            switched_off = bool(
                ScoringSettings.objects.filter(pk=1, order_queue_by_propensity=True).update(
                    order_queue_by_propensity=False
                )
            )
        transaction.on_commit(active_changed)
        if switched_off:
            transaction.on_commit(lead_services.scoring_changed)
    active_changed()
    rescored = rescore_open_leads(version=version) if version.target == Target.ACCEPTED else 0
    return Activation(version=version, rescored=rescored, queue_switched_off=switched_off)


def score_rows(rows, version: ModelVersion) -> np.ndarray:
    """Probabilities for feature rows (``features.columns`` order) under ``version``."""
    vocab = features.Vocabulary(list(version.weights))
    weights = np.fromiter(version.weights.values(), dtype=np.float64, count=len(vocab))
    x = features.to_matrix(features.encode(rows, vocab), len(vocab))
    return learning.sigmoid(learning.log_odds(x, version.intercept, weights))


def rescore_open_leads(*, version: ModelVersion, chunk: int = CHUNK) -> int:
    """Every open lead's probability under ``version``, written set-based: ids in ranges of
    ``chunk``, scored in numpy, written with one statement per range (``UPDATE … FROM
    UNNEST`` on PostgreSQL, skipping the leads whose probability is unchanged; ``executemany``
    on SQLite). Returns the number of open leads scored."""
    bounds = Lead.objects.order_by("pk").values_list("pk", flat=True)
    first, last = bounds.first(), bounds.last()
    if first is None or last is None:
        return 0
    written = 0
    for low in range(first, last + 1, chunk):
        rows = list(history.open_leads(low, low + chunk))
        if not rows:
            continue
        ids = [r[0] for r in rows]
        probabilities = score_rows([r[1:] for r in rows], version)
        write_probabilities(ids, probabilities.tolist(), version.pk)
        written += len(ids)
    return written


def write_probabilities(ids: list[int], probabilities: list[float], version_id: int) -> None:
    table = Lead._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS l SET propensity = v.p, propensity_version = %s "
                "FROM UNNEST(%s::bigint[], %s::float8[]) AS v(id, p) WHERE l.id = v.id "
                # a lead whose probability is unchanged is not rewritten (a new row version each)
                "AND (l.propensity IS DISTINCT FROM v.p OR l.propensity_version IS DISTINCT FROM %s)",
                [version_id, ids, probabilities, version_id],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET propensity = %s, propensity_version = %s WHERE id = %s",
                [(p, version_id, i) for i, p in zip(ids, probabilities, strict=True)],
            )


def apply_suggestions(
    *, version_id: int, suggestions: dict[int, int], then: Callable[[bool], None] | None = None
) -> int:
    """Set the profile's criteria to the suggested points (criterion id -> points) in one
    transaction, if ``version_id`` is still the active model the suggestions came from; the
    fit scores are then recomputed in a worker, as an edit in the admin does
    (``leads.services.profile_changed``, whose ``then`` hears after the commit whether the
    worker was reached). Returns the number of criteria changed."""
    with transaction.atomic():
        active = ModelVersion.objects.filter(pk=version_id, is_active=True).exists()
        if not active:
            raise PropensityRefused(
                "The model behind these suggestions is no longer in use: reload the page."
            )
        changed = 0
        for criterion in FitCriterion.objects.select_for_update().filter(pk__in=list(suggestions)):
            points = max(1, min(int(suggestions[criterion.pk]), 1000))
            if criterion.points != points:
                criterion.points = points
                criterion.save(update_fields=["points"])
                changed += 1
        if changed:
            lead_services.profile_changed(then=then)
    return changed
