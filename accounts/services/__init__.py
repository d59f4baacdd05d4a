"""The accounts app's public service API: what other apps, the demo, the bench and the tests
call. Import from here (``from accounts.services import hand_off``); the modules behind it are
the app's features, each owning its transactions and timelines:

- ``handoff``: the SDR's hand-off of a qualified lead (``Qualifying``, ``hand_off``);
- ``acceptance``: the AE's answer (``accept_handoff``, ``reject_handoff``) and the SLA sweep's
  reassigner for handoffs nobody answered;
- ``pipeline``: closing (``move_stage``, ``update_opportunity``);
- ``targets``: target accounts (``create_target_account``, ``assign_prospector``);
- ``prospects``: the people added to them (``add_prospects``, ``import_prospects``);
- ``activities``: logged work, calls, meetings and notes (``log_work``, ``record_activity``);
- ``common``: the app's refusal (``AccountsError``), the acceptance policy, the stages.

Who may do what is ``accounts.access``; the services ask it on the rows they lock.
"""

from .acceptance import accept_handoff, reassign_breached_handoffs, reject_handoff
from .activities import NOTE_MAX, log_work, record_activity
from .common import AccountsError, acceptance_policy, ensure_default_stages, first_stage
from .handoff import FREE_MAIL_DOMAINS, Qualifying, contact_for, email_domain, hand_off
from .pipeline import move_stage, update_opportunity
from .prospects import AddedProspect, ProspectResult, RefusedProspect, add_prospects, import_prospects
from .targets import (
    DuplicateDomain,
    assign_prospector,
    create_target_account,
    normalize_domain,
    prospects_of,
    with_counts,
)

__all__ = [
    "FREE_MAIL_DOMAINS",
    "NOTE_MAX",
    "AccountsError",
    "AddedProspect",
    "DuplicateDomain",
    "ProspectResult",
    "Qualifying",
    "RefusedProspect",
    "accept_handoff",
    "acceptance_policy",
    "add_prospects",
    "assign_prospector",
    "contact_for",
    "create_target_account",
    "email_domain",
    "ensure_default_stages",
    "first_stage",
    "hand_off",
    "import_prospects",
    "log_work",
    "move_stage",
    "normalize_domain",
    "prospects_of",
    "reassign_breached_handoffs",
    "record_activity",
    "reject_handoff",
    "update_opportunity",
    "with_counts",
]
