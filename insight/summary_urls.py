"""The weekly summary's pages, included by ``insight.urls`` at /insight/summary/ (so their
names are ``insight:summary`` and ``insight:summary_preference``)."""

from django.urls import path

from . import summary_views

urlpatterns = [
    path("", summary_views.summary_page, name="summary"),
    path("preference/", summary_views.summary_preference, name="summary_preference"),
]
