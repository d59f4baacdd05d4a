"""What the lead pages show beside the lead itself: its engagement and grade today, and where
it came from (its provenance: first seen, source system and id, what the source said, tags,
the imports that touched it). Read pages get these from here rather than from attributes
attached to the lead."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from .models import ImportJob, Lead, LeadImport, ScoringSettings


@dataclass(frozen=True)
class ScoredLead:
    """A lead with today's decayed engagement and its grade (fit letter, then engagement digit)."""

    lead: Lead
    engagement: float
    grade: str


def scored(
    leads: Iterable[Lead], scoring: ScoringSettings | None = None, *, now: datetime | None = None
) -> list[ScoredLead]:
    """Today's engagement and grade for each lead shown (at ``now``, the page's clock, when it
    has one), reading the settings once."""
    now, half_life = now or timezone.now(), (scoring or ScoringSettings.load()).half_life_days
    return [ScoredLead(lead, lead.engagement(now, half_life), lead.grade(now, half_life)) for lead in leads]


# What the lead page calls the source systems an import recognises (``Lead.external_system``).
SYSTEM_NAMES = {"salesforce": "Salesforce", "hubspot": "HubSpot"}
# How the page names what a source said (``Lead.source_attributes`` keys); others are shown
# with their key in words.
ATTRIBUTE_LABELS = {
    "status": "status",
    "stage": "lifecycle stage",
    "source_stage": "lifecycle stage",
    "lifecycle_stage": "lifecycle stage",
    "score": "score",
    "source_score": "score",
}
# HubSpot writes its lifecycle stages as one word.
STAGE_WORDS = {
    "marketingqualifiedlead": "marketing qualified lead",
    "salesqualifiedlead": "sales qualified lead",
}
IMPORTS_SHOWN = 10
# A lead captured in Refinery gets the same moment twice (a few microseconds apart); the page
# says "first seen" only when the source knew the person before Refinery did.
FIRST_SEEN_SHOWN_FROM = timedelta(minutes=1)


def in_words(value) -> str:
    """A source's code as words: ``IN_PROGRESS`` -> "in progress", ``salesqualifiedlead`` ->
    "sales qualified lead"; a number stays as written."""
    text = str(value).strip()
    folded = text.lower()
    if folded in STAGE_WORDS:
        return STAGE_WORDS[folded]
    if text.isupper() or "_" in text:
        return " ".join(text.replace("_", " ").lower().split())
    return text


@dataclass(frozen=True)
class ImportLine:
    """One import that touched the lead: which file, when, and what it did."""

    job_id: int
    file_name: str
    at: datetime
    action: str  # LeadImport.Action value
    action_label: str
    fields: list[str]  # the fields an update changed (what ``before`` kept)
    undone: bool


@dataclass(frozen=True)
class Provenance:
    """Where a lead came from, as its page shows it."""

    first_seen_at: datetime | None  # only when the source knew the person before the capture
    system: str  # "Salesforce", "HubSpot", the key as stored, or "" (not imported from a CRM)
    external_id: str
    said: list[tuple[str, str]]  # (what, value in words): the source's status, stage, score
    tags: list[str]
    imports: list[ImportLine]  # newest first, at most IMPORTS_SHOWN
    more_imports: bool

    @property
    def is_empty(self) -> bool:
        """Nothing for the "where this lead came from" card (first seen is in the summary)."""
        return not (self.system or self.external_id or self.said or self.tags or self.imports)


def provenance(lead: Lead) -> Provenance:
    """The lead's origin for its page, in two queries whatever their number: its tags, and its
    newest imports with their jobs (one more than shown, to say there are more)."""
    links = list(
        LeadImport.objects.filter(lead=lead)
        .select_related("job")
        .order_by("-job__created_at", "-job_id")[: IMPORTS_SHOWN + 1]
    )
    said = []
    if lead.external_status:
        said.append(("status", in_words(lead.external_status)))
    attributes = lead.source_attributes if isinstance(lead.source_attributes, dict) else {}
    # The known ones in the order of ATTRIBUTE_LABELS, then the rest by name (jsonb keeps no order).
    order = {key: i for i, key in enumerate(ATTRIBUTE_LABELS)}
    for key in sorted(attributes, key=lambda k: (order.get(k, len(order)), k)):
        value = attributes[key]
        if value in ("", None) or isinstance(value, dict | list):
            continue
        if key == "status" and value == lead.external_status:
            continue  # the import keeps the status it read among the attributes too: said once
        said.append((ATTRIBUTE_LABELS.get(key, key.replace("_", " ")), in_words(value)))
    earlier = lead.captured_at - lead.first_seen_at >= FIRST_SEEN_SHOWN_FROM
    return Provenance(
        first_seen_at=lead.first_seen_at if earlier else None,
        system=SYSTEM_NAMES.get(lead.external_system, lead.external_system),
        external_id=lead.external_id,
        said=said,
        tags=[tag.name for tag in lead.tags.all()],
        imports=[
            ImportLine(
                job_id=link.job_id,
                file_name=link.job.original_name,
                at=link.job.created_at,
                action=link.action,
                action_label=link.get_action_display(),
                fields=[key.replace("_", " ") for key in sorted(link.before)]
                if isinstance(link.before, dict)
                else [],
                undone=link.job.state == ImportJob.State.UNDONE,
            )
            for link in links[:IMPORTS_SHOWN]
        ],
        more_imports=len(links) > IMPORTS_SHOWN,
    )
