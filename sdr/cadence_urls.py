"""URLs of the cadence control (included by sdr/urls.py)."""

from django.urls import path

from . import cadence_views

urlpatterns = [
    path("cadences/leads/<int:lead_id>/", cadence_views.control, name="cadence_control"),
    path("cadences/leads/<int:lead_id>/enroll/", cadence_views.enroll, name="cadence_enroll"),
    path("cadences/leads/<int:lead_id>/stop/", cadence_views.stop, name="cadence_stop"),
]
