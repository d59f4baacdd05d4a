"""The lead facts (``insight.models.LeadFact``): one narrow row per lead, derived from the
source tables by set-based SQL. Being filled in: the signatures are the contract."""


def rebuild() -> int:
    """Recompute the facts of every lead; returns how many facts were written."""
    return 0


def refresh(now=None) -> int:
    """Recompute the facts of the leads that changed since the last run; returns the count."""
    return 0
