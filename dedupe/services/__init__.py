"""The dedupe app's services, its public API (other apps and the tests import from here):

lead_merge.py     merging two leads that are one person (``merge_leads``)
"""

from .lead_merge import (
    LEAD_RELATIONS,
    MERGE_FIELDS,
    MergeRefused,
    combined_engagement,
    default_choice,
    default_survivor,
    merge_leads,
    relation_key,
)

__all__ = [
    "LEAD_RELATIONS",
    "MERGE_FIELDS",
    "MergeRefused",
    "combined_engagement",
    "default_choice",
    "default_survivor",
    "merge_leads",
    "relation_key",
]
