"""The dedupe app's services, its public API (other apps and the tests import from here):

- ``lead_merge``: two leads that are one person become one (``merge_leads``, its refusal
  ``MergeRefused``, the fields chosen between, ``LEAD_FIELDS``).
- ``account_merge``: two accounts that are one company become one (``merge_accounts``, its
  refusal ``AccountMergeRefused``, the fields chosen between, ``ACCOUNT_FIELDS``).
"""

from .account_merge import (
    ACCOUNT_FIELDS,
    MOVED_RELATIONS,
    AccountMergeRefused,
    account_relations,
    merge_accounts,
)
from .lead_merge import (
    LEAD_FIELDS,
    LEAD_RELATIONS,
    MergeRefused,
    combined_engagement,
    default_choice,
    default_survivor,
    merge_leads,
    relation_key,
)

__all__ = [
    "ACCOUNT_FIELDS",
    "LEAD_FIELDS",
    "LEAD_RELATIONS",
    "MOVED_RELATIONS",
    "AccountMergeRefused",
    "MergeRefused",
    "account_relations",
    "combined_engagement",
    "default_choice",
    "default_survivor",
    "merge_accounts",
    "merge_leads",
    "relation_key",
]
