"""URLs of the accounts app's handoff pages (included by accounts/urls.py)."""

from django.urls import path

from . import handoff_views

urlpatterns: list = [
    path("leads/<int:lead_id>/hand-off/", handoff_views.handoff, name="handoff"),
]
