"""Account management writes, one module per feature; this package's names are the renewals
app's public service API (what other apps, the views, the API, tasks and tests import):

    contracts   customers and their contracts (by hand, by a won deal)
    managers    who gets a customer (territory round-robin), hand assignment, waiting customers
    windows     the renewal windows: opening renewals, the reminder (exactly once)
    outcomes    the renewal conversation (and calls, meetings, notes logged on a contract),
                the outcome, auto-renewals
    imported_customers  leads an import says are customers: contacts at customer accounts
    daily       the daily run (waiting customers, windows, auto-renewals)
    expansion   people at customers as expansion leads: upsell or "not now"
    imports     contracts from a billing system's CSV or JSON rows (``import_rows`` reads and
                cleans them, ``import_checks`` checks them against what exists)
    base        the refusal, the renewal SLA policies, term arithmetic, ``Terms``

Each function owns its transaction and writes the account's timeline in it. Refusals raise
``RenewalsError`` with a message for the user (and the field at fault) and change nothing; a
refusal of a lower app's service they call (a lead's lifecycle move, the pipeline without an
open stage) comes through as that app's, a ``kit.errors.Refused`` all the same.
"""

from .base import (
    BATCH,
    CATCH_UP_DAYS,
    DEFAULT_POLICIES,
    RENEWAL_ITEM_KINDS,
    RenewalsError,
    Terms,
    add_months,
    renewal_policies,
    term_end,
)
from .contracts import add_contracts, add_contracts_many, on_opportunity_won
from .daily import run_renewals
from .expansion import (
    NOT_NOW_REASONS,
    claim_expansion_leads,
    match_customers,
    move_expansion_leads,
    not_now,
    open_upsell,
)
from .import_rows import MAX_CONTRACT_ROWS, MAX_UPLOAD_BYTES, ImportReport, RowResult
from .imported_customers import (
    make_imported_customers,
    on_customers_imported,
    on_import_undone,
    remove_imported_customers,
)
from .imports import add_contract_rows, import_contracts
from .managers import (
    assign_account_manager,
    assign_waiting_customers,
    pick_account_manager,
    why_no_account_manager,
)
from .outcomes import (
    OUTCOME_EVENT,
    auto_renew_ended,
    in_renewal_window,
    log_contract_work,
    log_conversation,
    next_terms,
    record_outcome,
)
from .windows import RenewalRun, open_windows

__all__ = [
    "BATCH",
    "CATCH_UP_DAYS",
    "DEFAULT_POLICIES",
    "MAX_CONTRACT_ROWS",
    "MAX_UPLOAD_BYTES",
    "NOT_NOW_REASONS",
    "OUTCOME_EVENT",
    "RENEWAL_ITEM_KINDS",
    "ImportReport",
    "RenewalRun",
    "RenewalsError",
    "RowResult",
    "Terms",
    "add_contract_rows",
    "add_contracts",
    "add_contracts_many",
    "add_months",
    "assign_account_manager",
    "assign_waiting_customers",
    "auto_renew_ended",
    "claim_expansion_leads",
    "import_contracts",
    "in_renewal_window",
    "log_contract_work",
    "log_conversation",
    "make_imported_customers",
    "match_customers",
    "move_expansion_leads",
    "next_terms",
    "not_now",
    "on_customers_imported",
    "on_import_undone",
    "on_opportunity_won",
    "open_upsell",
    "open_windows",
    "pick_account_manager",
    "record_outcome",
    "remove_imported_customers",
    "renewal_policies",
    "run_renewals",
    "term_end",
    "why_no_account_manager",
]
