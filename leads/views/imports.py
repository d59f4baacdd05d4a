"""Import pages: upload a CSV or XLSX file, map its columns and choose the options, follow a
job's progress (the import runs in a worker), import a dry run for real, download the refused
rows to fix them."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.db import transaction
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kit.csvfiles import ImportFormatError, acsv_lines, csv_lines
from kit.htmx import is_htmx

from .. import importing, services, tasks
from ..access import can_import, require
from ..forms import ImportForm, MappingForm, StatusRow
from ..models import ImportJob, ImportRowError

ERRORS_PER_PAGE = 100
SAMPLE_VALUES = 3
REFUSED_COLUMN = "Refused because"
# The mapping screen's options, kept as chosen when the screen is drawn again for a new mapping.
OPTION_FIELDS = ("merge_policy", "owner", "team", "campaign", "tags")


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request):
    require(can_import(request.user))
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = ImportJob.objects.create(
            uploaded_by=request.user,
            file=upload,
            original_name=upload.name[:255],
            state=ImportJob.State.MAPPING,
            sheet_type=form.sheet_type,
            headers=form.preview.headers,
            file_format=form.preview.file_format,
        )
        return redirect("leads:import_mapping", pk=job.pk)
    jobs = ImportJob.objects.select_related("uploaded_by", "campaign")[:20]
    status = 400 if form.is_bound else 200
    return render(request, "leads/import_list.html", {"form": form, "jobs": jobs}, status=status)


@dataclass(frozen=True)
class ColumnRow:
    """One column of the file on the mapping screen."""

    index: int
    header: str
    samples: list[str]
    field: object  # the form's bound field


def _status_rows(found: importing.StatusValues) -> list[StatusRow]:
    rows = [
        StatusRow(key=f"status:{value}", kind="Status", value=value, count=count)
        for value, count in found.statuses.most_common()
    ]
    rows += [
        StatusRow(key=f"stage:{value}", kind="Lifecycle stage", value=value, count=count)
        for value, count in found.stages.most_common()
    ]
    return rows


def _posted_mapping(post, headers: list[str]) -> list[str] | None:
    """The mapping as the screen holds it (each ``column_<i>``; an unknown key is "", which the
    form then refuses), or None when the request carries none (the page's first load)."""
    if not any(f"column_{index}" in post for index in range(len(headers))):
        return None
    return [
        key if (key := post.get(f"column_{index}", "")) in importing.CANONICAL_KEYS else ""
        for index in range(len(headers))
    ]


def _carried_outcomes(post, statuses: list[StatusRow]) -> dict[str, str]:
    """The outcomes chosen on the screen, moved to the rows of ``statuses`` holding the same
    value: each status row posts its key beside its outcome (``status_key_<i>``), so a status
    map listed again for another mapping keeps what was chosen for the values still there."""
    chosen = {
        post[name]: post.get(f"outcome_{name.removeprefix('status_key_')}", "")
        for name in post
        if name.startswith("status_key_")
    }
    return {f"outcome_{index}": chosen[row.key] for index, row in enumerate(statuses) if chosen.get(row.key)}


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request, pk):
    """The mapping screen of a job waiting for its mapping: each column with sample values and
    its suggested field, the status map, the options; "Dry run" or "Import" queues it.

    A column's field changed on the screen posts the form with ``action=refresh`` (htmx): the
    answer is the status map (the values the mapping's status columns hold, with the outcomes
    chosen so far kept) and the ignored columns, read again for that mapping; without
    JavaScript, the page again with them."""
    require(can_import(request.user))
    job = get_object_or_404(ImportJob, pk=pk)
    if job.state != ImportJob.State.MAPPING:
        return redirect("leads:import_detail", pk=job.pk)
    suggested = services.suggested_mapping(job.headers)
    current = _posted_mapping(request.POST, job.headers) or suggested
    try:
        with job.file.open("rb") as handle:
            top = importing.preview(handle, sheet_type=job.sheet_type, rows=SAMPLE_VALUES)
            found = importing.status_values(handle, sheet_type=job.sheet_type, mapping=current)
    except ImportFormatError as exc:
        return render(request, "leads/import_unreadable.html", {"job": job, "problem": str(exc)}, status=400)
    except FileNotFoundError:
        problem = "The uploaded file is no longer stored; upload it again."
        return render(request, "leads/import_unreadable.html", {"job": job, "problem": problem}, status=410)
    statuses = _status_rows(found)
    refresh = request.method == "POST" and request.POST.get("action") == "refresh"
    if refresh:
        # Not a submission: the screen as it stands, every choice kept, nothing refused yet.
        initial = {name: request.POST.get(name) for name in OPTION_FIELDS if name in request.POST}
        form = MappingForm(
            initial=initial | _carried_outcomes(request.POST, statuses),
            headers=job.headers,
            suggested=current,
            statuses=statuses,
        )
    elif request.method == "POST":
        data = request.POST.copy()
        if any(name.startswith("status_key_") for name in data):
            for name in [name for name in data if name.startswith("outcome_")]:
                del data[name]
            data.update(_carried_outcomes(request.POST, statuses))
        form = MappingForm(data, headers=job.headers, suggested=suggested, statuses=statuses)
    else:
        form = MappingForm(headers=job.headers, suggested=suggested, statuses=statuses)
    if request.method == "POST" and not refresh and form.is_valid():
        data = form.cleaned_data
        options = services.ImportOptions(
            mapping=data["mapping"],
            status_map=data["status_map"],
            merge_policy=data["merge_policy"],
            owner=data["owner"],
            team=data["team"],
            campaign=data["campaign"],
            tag_names=tuple(data["tags"]),
            dry_run=request.POST.get("action") == "dry_run",
        )
        if services.confirm_import(job=job, options=options, by=request.user):
            transaction.on_commit(partial(tasks.enqueue_import, job.pk))
        else:
            messages.info(request, "This import was already started.")
        return redirect("leads:import_detail", pk=job.pk)
    fields = form.column_fields()
    columns = [
        ColumnRow(
            index=index,
            header=header,
            samples=[row[index] for row in top.samples if row[index].strip()],
            field=fields[index],
        )
        for index, header in enumerate(job.headers)
    ]
    ignored = [column.header for column in columns if not (column.field.value() or "")]
    context = {
        "job": job,
        "form": form,
        "columns": columns,
        "ignored": ignored,
        "statuses": list(zip(statuses, form.outcome_fields(), strict=True)),
        "statuses_complete": found.complete,
        "status_column_found": any(key in current for key in ("external_status", "source_stage")),
    }
    if refresh and is_htmx(request):
        return render(request, "leads/_import_mapping_live.html", context)
    return render(request, "leads/import_mapping.html", context, status=400 if form.is_bound else 200)


@login_required
def import_detail(request, pk):
    require(can_import(request.user))
    job = get_object_or_404(
        ImportJob.objects.select_related("uploaded_by", "campaign", "owner", "team"), pk=pk
    )
    if job.state == ImportJob.State.MAPPING and not is_htmx(request):
        return redirect("leads:import_mapping", pk=job.pk)
    errors = Paginator(job.row_errors.filter(warning=False), ERRORS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    warnings = Paginator(job.row_errors.filter(warning=True), ERRORS_PER_PAGE).get_page(
        request.GET.get("warnings_page")
    )
    context = {"job": job, "errors": errors, "warnings": warnings, "tags": list(job.tags.all())}
    if (job.is_finished and not job.dry_run) or job.state == ImportJob.State.UNDONE:
        context["undo"] = services.undo_offer(job)
    template = "leads/_import_progress.html" if is_htmx(request) else "leads/import_detail.html"
    return render(request, template, context)


@login_required
@require_POST
def import_for_real(request, pk):
    """A finished dry run, imported again with its mapping and options, writing this time."""
    require(can_import(request.user))
    dry_run = get_object_or_404(ImportJob.objects.select_related("owner", "team", "campaign"), pk=pk)
    if not (dry_run.dry_run and dry_run.state == ImportJob.State.DONE):
        messages.error(request, "Only a finished dry run can be imported for real.")
        return redirect("leads:import_detail", pk=dry_run.pk)
    job = services.import_for_real(dry_run=dry_run, by=request.user)
    transaction.on_commit(partial(tasks.enqueue_import, job.pk))
    return redirect("leads:import_detail", pk=job.pk)


@login_required
@require_GET
def refused_rows(request, pk: int) -> StreamingHttpResponse:
    """The refused rows as a CSV to fix and upload again: the file's header row and a "Refused
    because" column (ignored when the fixed file is mapped), in line order, formula-safe."""
    require(can_import(request.user))
    job = get_object_or_404(ImportJob, pk=pk)
    width = len(job.headers)
    refused = (
        ImportRowError.objects.filter(job=job, warning=False).order_by("line").values_list("cells", "reason")
    )

    header = [*job.headers, REFUSED_COLUMN]

    def row(cells, reason) -> list[str]:
        texts = [str(cell) for cell in (cells or [])]
        return [*(texts + [""] * width)[:width], reason]

    if isinstance(request, ASGIRequest):
        # Under ASGI Django streams only an asynchronous iterator (a synchronous one it reads
        # whole first); the tests' client and a WSGI server take the synchronous one.
        async def arows() -> AsyncIterator[list[str]]:
            async for cells, reason in refused.aiterator(chunk_size=2000):
                yield row(cells, reason)

        content: Iterator[str] | AsyncIterator[str] = acsv_lines(header, arows())
    else:
        content = csv_lines(
            header, (row(cells, reason) for cells, reason in refused.iterator(chunk_size=2000))
        )
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-refused-rows.csv"'
    return response
