"""The company duplicate finder's routes, included by ``dedupe.urls`` under ``companies/``."""

from django.urls import path

from .views import companies

urlpatterns = [
    path("", companies.companies, name="companies"),
    path("<int:first>/<int:second>/", companies.merge, name="companies_merge"),
    path("<int:first>/<int:second>/dismiss/", companies.dismiss, name="companies_dismiss"),
]
