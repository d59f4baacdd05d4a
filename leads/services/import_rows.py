"""An import's row once cleaned, as the writing steps (``import_write``, ``import_activity``)
take it."""

from dataclasses import dataclass

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
    def of(cls, line: int, row: importing.CleanRow, raw: dict) -> "SourceRow":
        return cls(
            line=line, row=row, stage=row.source_stage, score=row.source_score, warnings=list(row.warnings)
        )

    @property
    def attributes(self) -> dict[str, str]:
        found = {"stage": self.stage, "score": self.score, "status": self.row.external_status}
        return {key: value for key, value in found.items() if value}
