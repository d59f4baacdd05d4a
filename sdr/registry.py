"""What the apps above ``sdr`` tell routing about the leads that are theirs.

Routing deals new business: a territory rule picks an SDR team, its round-robin picks a rep.
Some sales-ready leads are not new business (someone at a customer is an expansion lead for
the account's AM), and ``sdr`` may not know about customers. The app that knows registers a
claimer in its ``AppConfig.ready``; ``route_leads`` offers it the leads not yet routed, before
territory matching, in the routing transaction with the leads locked, and routes only the
leads nobody claimed.

An explicit registry rather than a signal: a claimer answers (which leads it took, and for
whom), and claimers are asked in the order they registered, each getting what the earlier
ones left. With none registered, routing is exactly what it was.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from leads.models import Lead


@dataclass(frozen=True)
class Claim:
    """Who a claimed lead goes to. ``route_leads`` writes the owner and team on the lead (in its
    one UPDATE of the batch); the claimer has written the lead's work item and timeline."""

    owner_id: int
    team_id: int | None


# claimer(leads, now) -> {lead id: Claim} for the leads it takes. Called inside the routing
# transaction with the leads locked (MQL, nobody's, not yet in a team). It opens the claimed
# leads' work items and writes their events itself, set-based (a batch may hold hundreds),
# and must not touch the leads it leaves.
Claimer = Callable[[Sequence[Lead], datetime], dict[int, Claim]]

_claimers: list[Claimer] = []


def register_claimer(claimer: Claimer) -> None:
    """Register once (``ready`` may run more than once, e.g. in tests)."""
    if claimer not in _claimers:
        _claimers.append(claimer)


def claimers() -> tuple[Claimer, ...]:
    return tuple(_claimers)


def offer(leads: Sequence[Lead], now: datetime) -> dict[int, Claim]:
    """Offer ``leads`` to the registered claimers in turn; the claims of all of them."""
    claims: dict[int, Claim] = {}
    for claimer in _claimers:
        left = [lead for lead in leads if lead.pk not in claims]
        if not left:
            break
        taken = claimer(left, now)
        claims.update((pk, claim) for pk, claim in taken.items() if pk not in claims)
    return claims
