"""An import's row once cleaned, and a lead already stored, as the writing steps
(``import_write``, ``import_activity``) take them."""

from dataclasses import MISSING, dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from .. import importing

SYSTEM_NAMES = {"salesforce": "Salesforce", "hubspot": "HubSpot"}


@dataclass(slots=True)
class SourceRow:
    """One cleaned row and what the source said beyond the lead's fields."""

    line: int
    row: importing.CleanRow
    stage: str
    score: str
    warnings: list[str]

    @classmethod
    def of(cls, line: int, row: importing.CleanRow) -> "SourceRow":
        return cls(
            line=line, row=row, stage=row.source_stage, score=row.source_score, warnings=list(row.warnings)
        )

    @property
    def attributes(self) -> dict[str, str]:
        found = {"stage": self.stage, "score": self.score, "status": self.row.external_status}
        return {key: value for key, value in found.items() if value}


@dataclass(slots=True)
class KnownLead:
    """A stored lead as matching and merging read and change it, without a model instance: a
    batch loads thousands, and Django's instance of a 50-field model cost more than what the
    import does with it. ``kit.bulk.update`` writes its changed fields back."""

    id: int
    engagement_key: float  # an imported activity adds to it
    email: str
    first_name: str
    last_name: str
    title: str
    seniority: str
    company: str
    industry: str
    employees: int | None
    annual_revenue: Decimal | None
    country: str
    phone: str
    external_status: str
    rating: str
    external_id: str
    external_system: str
    source_attributes: dict[str, Any]
    first_seen_at: datetime
    status: str
    status_reason: str
    # Set by merging, written back when changed.
    fit_score: int = 0
    fit_grade: str = ""
    status_changed_at: datetime | None = None
    team_id: int | None = None
    updated_at: datetime | None = None

    @property
    def pk(self) -> int:
        return self.id

    @classmethod
    def of(cls, lead: Any) -> "KnownLead":
        """The same from a model instance (a lead found another way)."""
        return cls(*(getattr(lead, name) for name in KNOWN_LEAD_COLUMNS))


# The columns a lookup reads, in ``KnownLead``'s order: its fields without a default.
KNOWN_LEAD_COLUMNS = tuple(f.name for f in fields(KnownLead) if f.default is MISSING)
