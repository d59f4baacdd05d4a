from django.urls import path

from . import manage_views

app_name = "sdr_manage"

# A manager's team queues and reassignment pages (mounted at /teams/).
urlpatterns = [
    path("", manage_views.teams, name="teams"),
    path("reps/<int:rep_id>/reassign/", manage_views.reassign_queue, name="reassign_queue"),
    path("leads/<int:lead_id>/reassign/", manage_views.reassign_lead, name="reassign_lead"),
]
