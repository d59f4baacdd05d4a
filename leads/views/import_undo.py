"""Undoing an import (POST only): the import page's undo form posts here."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from ..access import can_import, require
from ..models import ImportJob
from ..services import ImportUndoRefused, undo_import


@login_required
@require_POST
def import_undo(request, pk):
    require(can_import(request.user))
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        done = undo_import(job=job, by=request.user)
    except ImportUndoRefused as exc:
        messages.error(request, str(exc))
    else:
        text = f"Import #{job.pk} undone: {done.removed:,} new leads removed, {done.reverted:,} known leads put back."
        if done.activities:
            text += f" {done.activities:,} imported activities were taken out."
        if done.kept:
            text += f" {done.kept:,} new leads were kept: someone worked on them since."
        if done.not_reverted:
            text += f" {done.not_reverted:,} known leads were left: their fields were changed since."
        messages.success(request, text)
    return redirect("leads:import_detail", pk=job.pk)
