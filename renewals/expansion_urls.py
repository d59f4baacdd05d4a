"""URLs of the AM's expansion-lead actions (included by renewals/urls.py)."""

from django.urls import path

from . import expansion_views

urlpatterns = [
    path("expansion-leads/<int:pk>/upsell/", expansion_views.expansion_upsell, name="expansion_upsell"),
    path("expansion-leads/<int:pk>/not-now/", expansion_views.expansion_not_now, name="expansion_not_now"),
]
