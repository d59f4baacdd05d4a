"""The hook through which a learned model (the ``propensity`` app, above ``leads``) scores
leads and explains a score, without ``leads`` importing it.

``propensity`` registers one ``LearnedScorer`` in its ``AppConfig.ready``. ``leads`` asks it
three things: the probability of a lead being captured (``score``: the capture writes it in
the same INSERT, so capture costs no query more), the explanation the lead page shows
(``explain``), and whether the current model beats the fit score on held-out leads
(``verdict``), which ``ScoringSettings.clean`` requires before the queue may order by the
learned probability. With nothing registered (or no model trained), a lead has no learned
probability and the switch stays off.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .models import Lead


@dataclass(frozen=True)
class Factor:
    """One attribute of a lead and what it does to the log-odds (positive raises)."""

    words: str  # "VP-level title", "came from a purchased list"
    contribution: float

    @property
    def raises(self) -> bool:
        return self.contribution > 0


@dataclass(frozen=True)
class Explanation:
    """A lead's learned probability and every factor behind it: the intercept plus the
    factors' contributions is the score's log-odds."""

    probability: float
    version_id: int
    intercept: float
    factors: tuple[Factor, ...]

    @property
    def percent(self) -> str:
        return f"{self.probability:.0%}"

    @property
    def log_odds(self) -> float:
        return self.intercept + sum(f.contribution for f in self.factors)

    def raising(self, n: int = 4) -> list[Factor]:
        return sorted((f for f in self.factors if f.contribution > 0), key=lambda f: -f.contribution)[:n]

    def lowering(self, n: int = 4) -> list[Factor]:
        return sorted((f for f in self.factors if f.contribution < 0), key=lambda f: f.contribution)[:n]


@dataclass(frozen=True)
class Verdict:
    beats_fit: bool
    reason: str


class LearnedScorer(Protocol):
    def score(self, lead: "Lead") -> tuple[float, int] | None: ...

    def explain(self, lead: "Lead") -> Explanation | None: ...

    def verdict(self) -> Verdict: ...


_registered: list[LearnedScorer] = []


def register(scorer: LearnedScorer) -> None:
    """Install the learned scorer (one; a second replaces the first)."""
    _registered[:] = [scorer]


def score(lead: "Lead") -> tuple[float, int] | None:
    """(probability, model version id) for a lead, or None when no model is in use."""
    return _registered[0].score(lead) if _registered else None


def explain(lead: "Lead") -> Explanation | None:
    """Why the lead has its learned probability; None for a lead no model scored (no query)."""
    if not _registered or lead.propensity_version is None:
        return None
    return _registered[0].explain(lead)


def verdict() -> Verdict:
    if not _registered:
        return Verdict(False, "No learned model is installed.")
    return _registered[0].verdict()
