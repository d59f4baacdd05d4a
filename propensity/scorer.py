"""The learned scorer ``leads`` calls through its hook (``leads.learned``): the active
accepted-opportunity model, kept in each process and re-read when its stamp in the shared
cache changes (``active_changed``). The stamp is read at most once a second per process, so
scoring a capture batch costs arithmetic on a few floats, no query, and at most one cache
read; another process sees a new model within a second of its activation."""

import math
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from leads.learned import Explanation, Factor, Verdict
from leads.models import TOUCH_KINDS

from . import features
from .models import ModelVersion, Target

ACTIVE_STAMP_KEY = "propensity:active"
RECHECK_SECONDS = 1.0


def active_changed() -> None:
    """Tell every process that an active model changed: this one re-reads it at its next
    score, the others within a second."""
    cache.set(ACTIVE_STAMP_KEY, uuid.uuid4().hex, timeout=None)
    SCORER.forget()


@dataclass(frozen=True)
class Loaded:
    version: ModelVersion | None
    vocab: features.Vocabulary
    words: dict[str, str]


class ActiveModelScorer:
    def __init__(self) -> None:
        self._stamp: str | None = None
        self._loaded: Loaded | None = None
        self._checked = float("-inf")

    def forget(self) -> None:
        """Re-read the stamp and, if it changed, the model at the next score."""
        self._loaded, self._checked = None, float("-inf")

    def loaded(self) -> Loaded:
        now = time.monotonic()
        if self._loaded is not None and now - self._checked < RECHECK_SECONDS:
            return self._loaded
        stamp = cache.get_or_set(ACTIVE_STAMP_KEY, lambda: uuid.uuid4().hex, timeout=None)
        self._checked = now
        if self._loaded is None or stamp != self._stamp:
            version = ModelVersion.objects.active(Target.ACCEPTED)
            keys = list(version.weights) if version else []
            words = (
                {f["key"]: f.get("words", f["key"]) for f in version.coefficients["features"]}
                if version
                else {}
            )
            self._loaded, self._stamp = Loaded(version, features.Vocabulary(keys), words), stamp
        return self._loaded

    def score(self, lead) -> tuple[float, int] | None:
        loaded = self.loaded()
        if loaded.version is None:
            return None
        z = self._log_odds(loaded, features.lead_row(lead))
        return 1.0 / (1.0 + math.exp(-max(min(z, 35.0), -35.0))), loaded.version.pk

    def _active_keys(self, loaded: Loaded, row: tuple) -> list[str]:
        indices = features.encode([row], loaded.vocab)[0]
        return [loaded.vocab.keys[i] for i in indices if i >= 0]

    def _log_odds(self, loaded: Loaded, row: tuple) -> float:
        assert loaded.version is not None
        weights = loaded.version.weights
        return loaded.version.intercept + sum(weights[k] for k in self._active_keys(loaded, row))

    def explain(self, lead) -> Explanation | None:
        """Every factor of this lead under the active model (one query: its first touch)."""
        loaded = self.loaded()
        if loaded.version is None or lead.pk is None:
            return None
        first_touch = (
            lead.activities.filter(kind__in=TOUCH_KINDS)
            .order_by("occurred_at")
            .values_list("occurred_at", flat=True)
            .first()
        )
        weights = loaded.version.weights
        keys = self._active_keys(loaded, features.lead_row(lead, first_touch))
        factors = tuple(Factor(loaded.words.get(k, k), weights[k]) for k in keys)
        z = loaded.version.intercept + sum(f.contribution for f in factors)
        return Explanation(
            probability=1.0 / (1.0 + math.exp(-max(min(z, 35.0), -35.0))),
            version_id=loaded.version.pk,
            intercept=loaded.version.intercept,
            factors=factors,
        )

    def verdict(self) -> Verdict:
        version = ModelVersion.objects.active(Target.ACCEPTED)
        if version is None:
            return Verdict(
                False,
                "No learned model is in use: the history was too short to train one, or no training ran yet.",
            )
        margin = settings.PROPENSITY_MIN_AUC_GAIN
        if not version.beats_fit(margin):
            return Verdict(
                False,
                f"The learned model (held-out AUC {version.auc:.3f}) does not beat the fit score "
                f"(AUC {version.fit_auc or 0:.3f}) by {margin:.2f} on the same held-out leads.",
            )
        return Verdict(True, f"Held-out AUC {version.auc:.3f} against the fit score's {version.fit_auc:.3f}.")


SCORER = ActiveModelScorer()
