"""Every page of the sdr app. Two namespaces, both here: ``sdr`` (the queue and the cadence
control, mounted at the site root) and ``sdr_manage`` (a manager's team queues and the
reassignment pages, mounted at /teams/ by ``config/urls.py`` through ``manage_urls``)."""

from django.urls import path

from .views import bulk, cadences, items, manage
from .views import queue as queue_views

app_name = "sdr"

urlpatterns = [
    path("queue/", queue_views.queue, name="queue"),
    path("queue/live/", queue_views.queue_live, name="queue_live"),
    path("queue/items/<int:item_id>/", items.item_detail, name="item"),
    path("queue/items/<int:item_id>/touch/", items.log_touch, name="touch"),
    path("queue/items/<int:item_id>/follow-up/", items.set_follow_up, name="follow_up"),
    path("queue/items/<int:item_id>/dispose/", items.dispose, name="dispose"),
    path("leads/bulk/", bulk.bulk, name="bulk"),
    path("cadences/leads/<int:lead_id>/", cadences.control, name="cadence_control"),
    path("cadences/leads/<int:lead_id>/enroll/", cadences.enroll, name="cadence_enroll"),
    path("cadences/leads/<int:lead_id>/stop/", cadences.stop, name="cadence_stop"),
]

# A manager's team queues and reassignment pages: ``include(manage_urls)`` at /teams/.
manage_urls = (
    [
        path("", manage.teams, name="teams"),
        path("reps/<int:rep_id>/reassign/", manage.reassign_queue, name="reassign_queue"),
        path("leads/<int:lead_id>/reassign/", manage.reassign_lead, name="reassign_lead"),
    ],
    "sdr_manage",
)
