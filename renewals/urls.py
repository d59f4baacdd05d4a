"""The account manager's pages: renewals, customer accounts and contracts."""

from django.urls import path

from . import expansion_urls, import_views, views

app_name = "renewals"

urlpatterns = [
    path("renewals/", views.renewals, name="renewals"),
    path("accounts/<int:pk>/", views.account, name="account"),
    path("accounts/<int:pk>/account-manager/", views.assign_am, name="assign_am"),
    path("accounts/<int:pk>/contracts/", views.add_contract, name="add_contract"),
    path("contracts/import/", import_views.import_contracts, name="import"),
    path("contracts/<int:pk>/", views.contract, name="contract"),
    path("contracts/<int:pk>/conversation/", views.conversation, name="conversation"),
    path("contracts/<int:pk>/outcome/", views.outcome, name="outcome"),
    *expansion_urls.urlpatterns,
]
