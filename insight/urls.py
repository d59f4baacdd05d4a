"""The insight pages, mounted at /insight/ (namespace ``insight``)."""

from django.urls import path, re_path

from . import views

app_name = "insight"

SECTIONS = "funnel|speed|money|retention"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("rows/<slug:kind>/", views.rows, name="rows"),
    path("summary/", views.summary_page, name="summary"),  # the weekly summary in the browser
    path("summary/preference/", views.summary_preference, name="summary_preference"),
    re_path(rf"^(?P<section>{SECTIONS})/$", views.section, name="section"),
    re_path(rf"^(?P<section>{SECTIONS})/(?P<key>[a-z-]+)\.csv$", views.table_csv, name="csv"),
]
