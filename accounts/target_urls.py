"""URLs of the accounts app's target pages (included by accounts/urls.py)."""

from django.urls import path

from . import target_views

urlpatterns = [
    path("targets/", target_views.targets, name="targets"),
    path("targets/<int:pk>/", target_views.target, name="target"),
    path("targets/<int:pk>/assign/", target_views.assign, name="target_assign"),
    path("targets/<int:pk>/prospects/", target_views.add_prospect, name="target_add_prospect"),
    path("targets/<int:pk>/prospects/import/", target_views.import_prospects, name="target_import"),
]
