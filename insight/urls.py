"""The insight pages, mounted at /insight/ (namespace ``insight``)."""

from django.urls import include, path, re_path

from . import views

app_name = "insight"

SECTIONS = "funnel|speed|money|retention"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("rows/<slug:kind>/", views.rows, name="rows"),
    path("summary/", include("insight.summary_urls")),  # the weekly summary's pages (H6)
    re_path(rf"^(?P<section>{SECTIONS})/$", views.section, name="section"),
    re_path(rf"^(?P<section>{SECTIONS})/(?P<key>[a-z-]+)\.csv$", views.table_csv, name="csv"),
]
