from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from leads.access import can_work_leads
from team.access import can_manage_reps, can_work_queue
from team.models import Role


@login_required
def home(request):
    """Each role lands where it works: SDRs in their queue, AEs in their inbox of handoffs,
    AMs in their renewals, managers in the breach review, marketing in the lead list."""
    user = request.user
    if user.role == Role.AE:
        return redirect("accounts:inbox")
    if user.role == Role.AM:
        return redirect("renewals:renewals")
    if user.role == Role.MARKETING:
        return redirect("leads:list")  # even as a superuser, who would otherwise land on breaches
    if can_work_queue(user):
        return redirect("sdr:queue")
    if can_manage_reps(user):
        return redirect("work:breaches")
    if can_work_leads(user):
        return redirect("leads:list")
    return render(request, "home.html")
