"""What the manager's early-loss review shows beside the opportunities: the days each took
from acceptance to loss, and the SDRs' counts under their names."""

from collections.abc import Iterable
from dataclasses import dataclass

from ..models import Opportunity


@dataclass(frozen=True)
class LossRow:
    """An early loss: the opportunity and how many days after acceptance it was lost."""

    opportunity: Opportunity
    days_to_loss: int | None


def loss_rows(opportunities: Iterable[Opportunity]) -> list[LossRow]:
    """``opportunities`` annotated with ``to_loss`` (closed minus accepted), as rows."""
    return [LossRow(o, o.to_loss.days if o.to_loss is not None else None) for o in opportunities]  # type: ignore[attr-defined]  # annotated by the page's query


@dataclass(frozen=True)
class SdrLosses:
    """How many early losses an SDR's handoffs made."""

    name: str
    n: int


def sdr_losses(counts: Iterable[dict]) -> list[SdrLosses]:
    """Counts by SDR (``values()`` rows of the SDR's names and ``n``), named as people are."""
    rows = []
    for row in counts:
        full = f"{row['sdr__first_name'] or ''} {row['sdr__last_name'] or ''}".strip()
        rows.append(SdrLosses(full or row["sdr__username"] or "No SDR", row["n"]))
    return rows
