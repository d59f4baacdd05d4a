"""The accounts app's public service API (being split into a module per feature)."""

from .handoff import (
    REJECT_REASONS,
    AccountsError,
    Qualifying,
    accept_handoff,
    acceptance_policy,
    contact_for,
    email_domain,
    ensure_default_stages,
    first_stage,
    hand_off,
    move_stage,
    reassign_breached_handoffs,
    reject_handoff,
    update_opportunity,
)

__all__ = [
    "REJECT_REASONS",
    "AccountsError",
    "Qualifying",
    "accept_handoff",
    "acceptance_policy",
    "contact_for",
    "email_domain",
    "ensure_default_stages",
    "first_stage",
    "hand_off",
    "move_stage",
    "reassign_breached_handoffs",
    "reject_handoff",
    "update_opportunity",
]
