"""The dedupe app's public service API (``from dedupe.services import merge_accounts``):

- ``account_merge``: two accounts that are one company become one (``merge_accounts``, its
  refusal ``AccountMergeRefused``, the fields chosen between, ``MERGE_FIELDS``).
"""

from .account_merge import (
    MERGE_FIELDS,
    MOVED_RELATIONS,
    AccountMergeRefused,
    account_relations,
    merge_accounts,
)

__all__ = ["MERGE_FIELDS", "MOVED_RELATIONS", "AccountMergeRefused", "account_relations", "merge_accounts"]
