"""Writing one batch of an import: each row matched to a known lead (by the source's id, else
by email) and merged under the job's policy, or made a new lead with the outcome its source
status says; links, timeline lines, tags and the announcements (sales-ready, customers).

Set-based: one lookup by external id and one by email per batch, one INSERT per table, one
UPDATE per set of changed fields. ``run_import`` owns the transaction (and, in a dry run, its
rollback)."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet, signals
from django.db.models.base import ModelState
from django.urls import reverse
from django.utils import timezone

from kit import bulk
from notifications.models import Kind
from notifications.services import News, notify
from work import services as work
from work.models import SlaPolicy, WorkItem

from ..import_status import resolve_outcome
from ..learned import score as learned_score
from ..models import ActivitySource, ImportJob, ImportRowError, Lead, LeadEvent, LeadImport, LeadRedirect, Tag
from ..scoring import fit_of
from ..signals import customers_imported, sales_ready
from .common import FIT_FIELDS, PROMOTABLE
from .import_activity import record_source_activities
from .import_rows import KNOWN_LEAD_COLUMNS, SYSTEM_NAMES, KnownLead, SourceRow
from .scoring import ScoringContext

Outcome = ImportJob.Outcome
Policy = ImportJob.MergePolicy

# The lead fields a known person's row may change (besides the source id pair, the source
# attributes and first_seen_at).
MERGE_FIELDS = (
    "first_name",
    "last_name",
    "title",
    "seniority",
    "company",
    "industry",
    "employees",
    "annual_revenue",
    "country",
    "phone",
    "external_status",
    "rating",
)
REVIEW_TAG = "Review: open opportunity"
# A known lead takes the file's outcome only from marketing's hands, and only when the file
# says it is over: a lead an SDR or an AE is working is not moved by a file.
KNOWN_LEAD_OUTCOMES: dict[str, str] = {
    Outcome.CUSTOMER: Lead.Status.WON,
    Outcome.DISQUALIFIED: Lead.Status.DISQUALIFIED,
}
NEW_LEAD_STATUS: dict[str, str] = {
    Outcome.NURTURE: Lead.Status.NURTURE,
    Outcome.MQL: Lead.Status.MQL,
    Outcome.REVIEW: Lead.Status.MQL,  # an SDR reviews the open opportunity
    Outcome.CUSTOMER: Lead.Status.WON,
    Outcome.DISQUALIFIED: Lead.Status.DISQUALIFIED,
}


@dataclass
class Seen:
    """Who this batch (and, in a dry run, the earlier batches, rolled back) already handled: a
    person twice in one file counts once. A real import's earlier batches are found through
    the job's ``LeadImport`` links instead, so its memory does not grow with the file."""

    emails: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    lead_ids: set[int] = field(default_factory=set)

    def copy(self) -> "Seen":
        return Seen(set(self.emails), set(self.ids), set(self.lead_ids))

    def update(self, other: "Seen") -> None:
        self.emails |= other.emails
        self.ids |= other.ids
        self.lead_ids |= other.lead_ids


@dataclass
class BatchResult:
    created: int = 0
    existing: int = 0
    updated: int = 0
    unchanged: int = 0
    customers: int = 0
    reviews: int = 0
    disqualified: int = 0
    activities: int = 0
    warnings: list[ImportRowError] = field(default_factory=list)
    seen: Seen = field(default_factory=Seen)


_AS_JSON_ALREADY = frozenset({str, int, float, bool, type(None), dict, list})


def as_json(value: Any) -> Any:
    """A lead field's value as ``LeadImport.before`` stores it."""
    if type(value) in _AS_JSON_ALREADY:  # most values: asked twice per changed field
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def write_batch(
    job: ImportJob,
    rows: list[SourceRow],
    context: ScoringContext,
    *,
    seen: Seen,
    system: str,
    tag_ids: list[int],
) -> BatchResult:
    """Write one batch (see the module's docstring); ``seen`` is updated with its people."""
    now = timezone.now()
    result = BatchResult(seen=seen)
    ids = {r.row.external_id for r in rows if system and r.row.external_id}
    by_id = (
        {
            lead.external_id: lead
            # "<> ''" lets PostgreSQL use the partial index lead_external_id for a long id list.
            for lead in _known(
                Lead.objects.filter(bulk.AnyOf(F("external_id"), ids), external_system=system).exclude(
                    external_id=""
                )
            )
        }
        if ids
        else {}
    )
    by_email = {
        lead.email: lead
        for lead in _known(Lead.objects.filter(bulk.AnyOf(F("email"), {r.row.email for r in rows})))
    }
    by_email |= {
        email: KnownLead.of(lead)
        for email, lead in LeadRedirect.objects.survivors_by_email(
            {r.row.email for r in rows} - by_email.keys(), lock=True
        ).items()
    }
    matched = {lead.pk for lead in [*by_id.values(), *by_email.values()]}
    # The batch's leads' links, filtered to this job here: asked by lead only, the query can
    # only be answered by the (lead, job) index, one probe per lead. With the job in the query,
    # statistics that lag behind a running import made PostgreSQL read every link of the job
    # for every batch. A lead has one link per import that touched it.
    linked = {
        lead_id
        for lead_id, job_id in LeadImport.objects.filter(bulk.AnyOf(F("lead_id"), matched)).values_list(
            "lead_id", "job_id"
        )
        if job_id == job.pk
    }
    new: list[SourceRow] = []
    known: list[tuple[SourceRow, KnownLead]] = []
    for r in rows:
        id_key = r.row.external_id if system and r.row.external_id else ""
        lead = by_id.get(id_key) if id_key else None
        lead = lead or by_email.get(r.row.email)
        if (
            r.row.email in seen.emails
            or (id_key and id_key in seen.ids)
            or (lead is not None and (lead.pk in seen.lead_ids or lead.pk in linked))
        ):
            result.existing += 1  # the same person again in this file: counted once
            continue
        seen.emails.add(r.row.email)
        if id_key:
            seen.ids.add(id_key)
        if lead is None:
            new.append(r)
            continue
        seen.lead_ids.add(lead.pk)
        seen.emails.add(lead.email)
        if lead.external_system == system and lead.external_id:
            seen.ids.add(lead.external_id)
        result.existing += 1
        known.append((r, lead))

    won: list[int] = []
    created = _create_leads(job, new, context, now, system=system, tag_ids=tag_ids, result=result, won=won)
    _merge_known(job, known, context, now, system=system, result=result, won=won)
    result.activities = record_source_activities(
        job, new=zip(new, created, strict=True), known=known, context=context, now=now, system=system
    )
    result.warnings = [
        ImportRowError(
            job=job, line=r.line, reason="; ".join(r.warnings)[:500], email=r.row.email[:254], warning=True
        )
        for r in sorted([*new, *(r for r, _ in known)], key=lambda r: r.line)
        if r.warnings
    ]
    _announce(job, created, now)
    if won:
        customers_imported.send(sender=Lead, lead_ids=won, job_id=job.pk)
    return result


# The timeline lines and import links an import writes, as rows (``kit.bulk.insert_rows``).
EVENT_COLUMNS = (
    "lead_id",
    "kind",
    "at",
    "actor_id",
    "campaign_id",
    "via",
    "from_status",
    "to_status",
    "message",
)
LINK_COLUMNS = ("job_id", "lead_id", "line", "action", "before")


def _event(
    job: ImportJob,
    now: datetime,
    lead_id: int,
    kind: str,
    message: str,
    *,
    from_status: str = "",
    to_status: str = "",
    campaign_id: int | None = None,
) -> tuple:
    """A timeline line by the import's uploader, as a row of ``EVENT_COLUMNS``."""
    return (
        lead_id,
        kind,
        now,
        job.uploaded_by_id,
        campaign_id,
        ActivitySource.IMPORT,
        from_status,
        to_status,
        message[:500],
    )


def _known(leads: QuerySet[Lead]) -> list[KnownLead]:
    """The leads as ``KnownLead``, locked in id order (one order for every writer)."""
    return [
        KnownLead(*row)
        for row in leads.select_for_update(of=("self",)).order_by("pk").values_list(*KNOWN_LEAD_COLUMNS)
    ]


def _status_reason(system: str, r: SourceRow) -> str:
    value = r.row.external_status or r.stage
    return f"{SYSTEM_NAMES.get(system, 'Source')} status: {value}"[:300]


def _create_leads(
    job: ImportJob,
    rows: list[SourceRow],
    context: ScoringContext,
    now: datetime,
    *,
    system: str,
    tag_ids: list[int],
    result: BatchResult,
    won: list[int],
) -> list[Lead]:
    if not rows:
        return []
    leads, outcomes = [], []
    for r in rows:
        outcome = resolve_outcome(job.status_map, r.row.external_status, r.stage)
        lead = _lead_from_row(r, job, context, now, system=system)
        lead.status = NEW_LEAD_STATUS[outcome]
        if lead.status == Lead.Status.MQL:
            lead.mql_at = now
        elif lead.status == Lead.Status.DISQUALIFIED:
            lead.status_reason = _status_reason(system, r)
        leads.append(lead)
        outcomes.append(outcome)
    bulk.insert(Lead, leads, with_ids=True)  # a lost race on an email retries the batch
    result.created += len(leads)
    result.customers += outcomes.count(Outcome.CUSTOMER)
    result.reviews += outcomes.count(Outcome.REVIEW)
    result.disqualified += outcomes.count(Outcome.DISQUALIFIED)
    won.extend(lead.pk for lead in leads if lead.status == Lead.Status.WON)
    bulk.insert_rows(
        LeadEvent,
        EVENT_COLUMNS,
        [
            _event(
                job,
                now,
                lead.pk,
                LeadEvent.Kind.CAPTURED,
                f"Import #{job.pk} from {job.original_name[:200]}, line {r.line}"
                + (f": {lead.status_reason}" if lead.status_reason else ""),
                to_status=lead.status,
                campaign_id=job.campaign_id,
            )
            for r, lead in zip(rows, leads, strict=True)
        ],
    )
    bulk.insert_rows(
        LeadImport,
        LINK_COLUMNS,
        [
            (job.pk, lead.pk, r.line, LeadImport.Action.CREATED, None)
            for r, lead in zip(rows, leads, strict=True)
        ],
    )
    links = [(lead.pk, tag_id) for lead in leads for tag_id in tag_ids]
    if Outcome.REVIEW in outcomes:
        review_tag = Tag.objects.filter(name__iexact=REVIEW_TAG).first() or Tag.objects.create(
            name=REVIEW_TAG
        )
        links += [
            (lead.pk, review_tag.pk)
            for lead, outcome in zip(leads, outcomes, strict=True)
            if outcome == Outcome.REVIEW
        ]
    Through = Lead.tags.through  # the leads are new: no link can exist yet
    bulk.insert(Through, [Through(lead_id=lead_id, tag_id=tag_id) for lead_id, tag_id in links])
    return leads


def _lead_from_row(
    r: SourceRow, job: ImportJob, context: ScoringContext, now: datetime, *, system: str
) -> Lead:
    row = r.row
    lead = _new_lead(
        email=row.email,
        first_name=row.first_name,
        last_name=row.last_name,
        company=row.company,
        title=row.title,
        seniority=row.seniority,
        industry=row.industry,
        employees=row.employees,
        annual_revenue=row.annual_revenue,
        country=row.country,
        phone=row.phone,
        source=job.campaign.channel if job.campaign else row.source,
        campaign_id=job.campaign_id,
        rating=row.rating,
        external_id=row.external_id,
        external_system=system if row.external_id else "",
        external_status=row.external_status,
        external_created_at=row.external_created_at,
        source_attributes=r.attributes,
        captured_at=now,
        first_seen_at=min(row.external_created_at or now, now),
        status_changed_at=now,
        updated_at=now,
    )
    if job.campaign is not None:  # as Lead(campaign=...) would hold it: no query to read it
        _CAMPAIGN.set_cached_value(lead, job.campaign)
    lead.fit_score, lead.fit_grade = fit_of(lead, context.criteria)
    # The learned probability, as a capture writes it (``leads.learned``; in memory, no query).
    learned = learned_score(lead)
    if learned is not None:
        lead.propensity, lead.propensity_version = learned
    return lead


_CAMPAIGN = Lead._meta.get_field("campaign")


class _LeadTemplate:
    """New ``Lead`` instances from their columns, the defaults of the columns a row does not
    give computed once. ``Lead(**fields)`` looks up and computes every one of its fifty fields'
    defaults per instance, and sets each through its descriptor: more time than the rest of
    what an import does for a new person. Here the instance's attributes are filled at once, as
    ``Lead(*values)`` would set them, unless something listens for a lead's ``pre_init`` or
    ``post_init`` (then it is ``Lead(*values)``, which sends them). A field whose default is a
    callable (a time, a new dict) and that the row does not give gets its own value per
    instance."""

    def __init__(self) -> None:
        fields = Lead._meta.concrete_fields
        self.attnames = [f.attname for f in fields]
        self.positions = {attname: i for i, attname in enumerate(self.attnames)}
        template = Lead()
        self.defaults = [getattr(template, attname) for attname in self.attnames]
        self.fresh = [(i, f) for i, f in enumerate(fields) if f.has_default() and callable(f.default)]
        self.signalled = signals.pre_init.has_listeners(Lead) or signals.post_init.has_listeners(Lead)

    def __call__(self, **values: Any) -> Lead:
        row = list(self.defaults)
        positions = self.positions
        for attname, value in values.items():
            row[positions[attname]] = value
        for i, f in self.fresh:
            if f.attname not in values:
                row[i] = f.get_default()
        if self.signalled:
            return Lead(*row)  # the columns in order, as Django's from_db passes them
        lead = Lead.__new__(Lead)
        lead.__dict__.update(zip(self.attnames, row, strict=True))
        lead._state = ModelState()
        return lead


_new_lead_template: _LeadTemplate | None = None


def _new_lead(**values: Any) -> Lead:
    """``Lead(**values)`` (attribute names: ``campaign_id``), through one ``_LeadTemplate``."""
    global _new_lead_template
    if _new_lead_template is None:
        _new_lead_template = _LeadTemplate()
    return _new_lead_template(**values)


def _announce(job: ImportJob, leads: list[Lead], now: datetime) -> None:
    """New sales-ready leads: to the import's owner (or team) with their first-touch timer when
    the import names one, else to routing (``sales_ready``), as any MQL."""
    ready = [lead for lead in leads if lead.status == Lead.Status.MQL]
    if not ready:
        return
    if job.owner_id is None and job.team_id is None:
        sales_ready.send(sender=Lead, lead_ids=[lead.pk for lead in ready])
        return
    owner = job.owner
    team_id = job.team_id or (owner.team_id if owner is not None else None)
    Lead.objects.filter(pk__in=[lead.pk for lead in ready]).update(owner=owner, team_id=team_id)
    policy = _first_touch_policy()
    work.open_items(
        [
            work.NewItem(
                subject=lead,
                kind=WorkItem.Kind.FIRST_TOUCH,
                title=f"Imported sales-ready lead: {lead.name or lead.email}"[:200],
                owner_id=owner.pk if owner is not None else None,
                team_id=team_id,
                policy=policy,
            )
            for lead in ready
        ],
        now=now,
    )
    if owner is not None:
        # One "assigned to you" per batch, as routing writes (the queue lives in sdr, above
        # leads: a single lead's page for one, the lead list filtered to the owner for several).
        one = len(ready) == 1
        notify(
            [
                News(
                    recipient_id=owner.pk,
                    kind=Kind.ASSIGNED,
                    text=f"{ready[0]} was assigned to you by import #{job.pk}"
                    if one
                    else f"{len(ready)} leads were assigned to you by import #{job.pk}",
                    url=ready[0].get_absolute_url() if one else f"{reverse('leads:list')}?owner={owner.pk}",
                )
            ],
            by=job.uploaded_by,
            now=now,
        )
    where = f"{owner}" if owner is not None else f"{job.team}'s unassigned queue"
    LeadEvent.objects.bulk_create(
        LeadEvent(
            lead_id=lead.pk,
            kind=LeadEvent.Kind.ROUTED,
            at=now,
            actor=job.uploaded_by,
            via=ActivitySource.IMPORT,
            message=f"Assigned to {where} by import #{job.pk}."[:500],
        )
        for lead in ready
    )


def _first_touch_policy() -> SlaPolicy:
    policy = work.policies_by_key(SlaPolicy.FIRST_TOUCH_MQL).get(SlaPolicy.FIRST_TOUCH_MQL)
    if policy is None:  # an admin removed it; routing recreates it with the same defaults
        policy, _ = SlaPolicy.objects.get_or_create(
            key=SlaPolicy.FIRST_TOUCH_MQL, defaults={"name": "First touch: MQL", "target_minutes": 4 * 60}
        )
    return policy


def merged_values(lead: KnownLead, r: SourceRow, policy: str, system: str) -> dict[str, Any]:
    """The fields the row changes on a known lead under ``policy``: name -> new value."""
    if policy == Policy.KEEP:
        return {}
    overwrite = policy == Policy.OVERWRITE
    row = r.row
    changes: dict[str, Any] = {}
    for name in MERGE_FIELDS:
        value, current = getattr(row, name), getattr(lead, name)
        if value in (None, "") or value == current:
            continue
        if overwrite or current in (None, ""):
            changes[name] = value
    new_id = bool(system and row.external_id) and (lead.external_system, lead.external_id) != (
        system,
        row.external_id,
    )
    if new_id and (overwrite or not lead.external_id):
        changes["external_id"], changes["external_system"] = row.external_id, system
    attributes = dict(lead.source_attributes or {})
    for key, value in r.attributes.items():
        if attributes.get(key) != value and (overwrite or not attributes.get(key)):
            attributes[key] = value
    if attributes != (lead.source_attributes or {}):
        changes["source_attributes"] = attributes
    if row.external_created_at is not None and row.external_created_at < lead.first_seen_at:
        changes["first_seen_at"] = row.external_created_at
    return changes


def _merge_known(
    job: ImportJob,
    known: list[tuple[SourceRow, KnownLead]],
    context: ScoringContext,
    now: datetime,
    *,
    system: str,
    result: BatchResult,
    won: list[int],
) -> None:
    """Known people under the job's merge policy: the fields the policy changes, the outcome
    when the file says the lead is a customer or disqualified and it is still marketing's; a
    timeline line only where something changed."""
    if not known:
        return
    verb = "overwrote" if job.merge_policy == Policy.OVERWRITE else "filled"
    links: list[tuple] = []
    events: list[tuple] = []
    changed: list[tuple[KnownLead, set[str]]] = []
    for r, lead in known:
        changes = merged_values(lead, r, job.merge_policy, system)
        before = {name: [as_json(getattr(lead, name)), as_json(value)] for name, value in changes.items()}
        fields = set(changes)
        for name, value in changes.items():
            setattr(lead, name, value)
        if FIT_FIELDS & fields:
            lead.fit_score, lead.fit_grade = fit_of(lead, context.criteria)
            fields |= {"fit_score", "fit_grade"}
        described = [name.replace("_", " ") for name in changes]
        if described:
            events.append(
                _event(
                    job,
                    now,
                    lead.pk,
                    LeadEvent.Kind.UPDATED,
                    f"Import #{job.pk} {verb} {', '.join(described)}",
                )
            )
        outcome = resolve_outcome(job.status_map, r.row.external_status, r.stage)
        to = KNOWN_LEAD_OUTCOMES.get(outcome)
        if to is not None and lead.status in PROMOTABLE:
            reason = _status_reason(system, r) if to == Lead.Status.DISQUALIFIED else ""
            before["status"] = [lead.status, to]
            before["status_reason"] = [lead.status_reason, reason]
            events.append(
                _event(
                    job,
                    now,
                    lead.pk,
                    LeadEvent.Kind.STATUS,
                    f"Import #{job.pk}: {reason or 'a customer in ' + SYSTEM_NAMES.get(system, 'the source')}",
                    from_status=lead.status,
                    to_status=to,
                )
            )
            lead.status, lead.status_reason, lead.status_changed_at, lead.team_id = to, reason, now, None
            fields |= {"status", "status_reason", "status_changed_at", "team"}
            if to == Lead.Status.WON:
                result.customers += 1
                won.append(lead.pk)
            else:
                result.disqualified += 1
        if fields:
            lead.updated_at = now
            changed.append((lead, fields | {"updated_at"}))
            result.updated += 1
        else:
            result.unchanged += 1
        action = LeadImport.Action.UPDATED if before else LeadImport.Action.UNCHANGED
        links.append((job.pk, lead.pk, r.line, action, before or None))
    bulk.update(Lead, changed)
    bulk.insert_rows(LeadEvent, EVENT_COLUMNS, events)
    bulk.insert_rows(LeadImport, LINK_COLUMNS, links)
