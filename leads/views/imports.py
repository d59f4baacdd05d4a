"""CSV import pages: upload a file (the import runs in a worker) and follow a job's progress."""

from functools import partial

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from kit.htmx import is_htmx

from .. import tasks
from ..access import can_import, require
from ..forms import ImportForm
from ..models import ImportJob

ERRORS_PER_PAGE = 100


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request):
    require(can_import(request.user))
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        with transaction.atomic():
            job = ImportJob.objects.create(
                uploaded_by=request.user,
                file=upload,
                original_name=upload.name[:255],
                campaign=form.cleaned_data["campaign"],
            )
            transaction.on_commit(partial(tasks.enqueue_import, job.pk))
        return redirect("leads:import_detail", pk=job.pk)
    jobs = ImportJob.objects.select_related("uploaded_by", "campaign")[:20]
    status = 400 if form.is_bound else 200
    return render(request, "leads/import_list.html", {"form": form, "jobs": jobs}, status=status)


@login_required
def import_detail(request, pk):
    require(can_import(request.user))
    job = get_object_or_404(ImportJob.objects.select_related("uploaded_by", "campaign"), pk=pk)
    errors = Paginator(job.row_errors.all(), ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"job": job, "errors": errors}
    template = "leads/_import_progress.html" if is_htmx(request) else "leads/import_detail.html"
    return render(request, template, context)
