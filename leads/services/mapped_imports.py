"""Setting up an import before it runs: the mapping suggested from the mappings saved before,
the person's mapping and options confirmed on the job (and the mapping saved for next time),
and a dry run's "import for real". The writing itself is ``imports.run_import``.

Queueing is a compare-and-swap from "waiting for its mapping" to "queued", so two tabs
confirming one job queue it once; the caller sends the task once the transaction commits
(``leads.tasks.enqueue_import``).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from kit.csvfiles import header_key

from .. import importing
from ..models import Campaign, ImportJob, ImportMapping, Tag

# Saved mappings read for per-header suggestions: the most recently confirmed ones.
LEARNED_MAPPINGS = 50


def suggested_mapping(headers: Sequence[str]) -> list[str]:
    """Each column's suggested field ("" = ignored): the saved mapping of this very header row,
    else what recent saved mappings said per header, else the CRM labels and generic names
    (``importing.suggest_mapping``). Two queries at most, whatever was saved."""
    exact = ImportMapping.objects.filter(signature=importing.mapping_signature(headers)).first()
    if exact is not None:
        return importing.suggest_mapping(headers, exact=exact.columns)
    wanted = {header_key(header) for header in headers}
    learned: dict[str, str] = {}
    # Oldest first, so the most recent mapping's word on a header wins.
    recent = ImportMapping.objects.filter(columns__has_any_keys=sorted(wanted)).order_by("-updated_at")
    for columns in reversed(list(recent.values_list("columns", flat=True)[:LEARNED_MAPPINGS])):
        learned |= {key: value for key, value in columns.items() if key in wanted and isinstance(value, str)}
    return importing.suggest_mapping(headers, learned=learned)


@dataclass(frozen=True)
class ImportOptions:
    """What the mapping screen decides for one import."""

    mapping: list[str]
    status_map: dict[str, str]
    merge_policy: str
    owner: object | None = None
    team: object | None = None
    campaign: Campaign | None = None
    tag_names: tuple[str, ...] = ()
    dry_run: bool = False


def tags_named(names: Sequence[str]) -> list[Tag]:
    """The tags of these names, created when new; "Hot" finds "hot" (names are unique whatever
    their case)."""
    tags: dict[str, Tag] = {}
    for name in names:
        if name.casefold() in tags:
            continue
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            try:
                with transaction.atomic():
                    tag = Tag.objects.create(name=name)
            except IntegrityError:  # created by someone else meanwhile
                tag = Tag.objects.get(name__iexact=name)
        tags[name.casefold()] = tag
    return list(tags.values())


def confirm_import(*, job: ImportJob, options: ImportOptions, by) -> bool:
    """Put a job waiting for its mapping in the queue with the mapping and options chosen, and
    save the mapping for the next file with these headers. Returns False (and changes nothing)
    when the job was no longer waiting for its mapping (confirmed in another tab)."""
    with transaction.atomic():
        queued = ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.MAPPING).update(
            state=ImportJob.State.QUEUED,
            mapping=list(options.mapping),
            status_map=dict(options.status_map),
            merge_policy=options.merge_policy,
            owner=options.owner,
            team=options.team,
            campaign=options.campaign,
            dry_run=options.dry_run,
        )
        if not queued:
            return False
        job.tags.set(tags_named(options.tag_names))
        save_mapping(headers=job.headers, mapping=options.mapping, by=by)
    job.refresh_from_db()
    return True


def save_mapping(*, headers: Sequence[str], mapping: Sequence[str], by) -> ImportMapping:
    """Keep a confirmed mapping, found again by the header row's signature."""
    mapping_row, _ = ImportMapping.objects.update_or_create(
        signature=importing.mapping_signature(headers),
        defaults={
            "columns": importing.mapping_columns(headers, mapping),
            "name": ", ".join(headers)[:200],
            "created_by": by,
        },
    )
    return mapping_row


def import_for_real(*, dry_run: ImportJob, by) -> ImportJob:
    """A new queued import of a dry run's file with its mapping and options, written this time."""
    with transaction.atomic():
        job = ImportJob.objects.create(
            uploaded_by=by,
            file=dry_run.file.name,
            original_name=dry_run.original_name,
            file_format=dry_run.file_format,
            sheet_type=dry_run.sheet_type,
            headers=dry_run.headers,
            mapping=dry_run.mapping,
            status_map=dry_run.status_map,
            merge_policy=dry_run.merge_policy,
            owner=dry_run.owner,
            team=dry_run.team,
            campaign=dry_run.campaign,
            dry_run=False,
            state=ImportJob.State.QUEUED,
        )
        job.tags.set(dry_run.tags.all())
    return job
