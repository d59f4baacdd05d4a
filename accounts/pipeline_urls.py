"""URLs of the accounts app's pipeline pages (included by accounts/urls.py): the AE's inbox and
pipeline, one opportunity's page and its actions, and the manager's early losses."""

from django.urls import path

from . import views

urlpatterns: list = [
    path("inbox/", views.inbox, name="inbox"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("opportunities/early-losses/", views.early_losses, name="early_losses"),
    path("opportunities/<int:pk>/", views.opportunity_page, name="opportunity"),
    path("opportunities/<int:pk>/accept/", views.accept, name="accept"),
    path("opportunities/<int:pk>/reject/", views.reject, name="reject"),
    path("opportunities/<int:pk>/move/", views.move, name="move"),
    path("opportunities/<int:pk>/details/", views.details, name="details"),
]
