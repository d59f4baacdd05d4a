"""The account manager's pages: renewals, customer accounts and contracts, expansion leads,
the contract import."""

from django.urls import path

from .views import account, book, contract, due, expansion, exports, imports

app_name = "renewals"

urlpatterns = [
    path("renewals/", due.renewals, name="renewals"),
    path("renewals/export/", exports.renewals_export, name="renewals_export"),
    path("accounts/", book.accounts, name="accounts"),
    path("accounts/export/", exports.accounts_export, name="accounts_export"),
    path("accounts/contacts/export/", exports.contacts_export, name="contacts_export"),
    path("renewals/expansion-leads/live/", due.expansion_live, name="expansion_live"),
    path("accounts/<int:pk>/", account.account, name="account"),
    path("accounts/<int:pk>/account-manager/", account.assign_am, name="assign_am"),
    path("accounts/<int:pk>/contracts/", account.add_contract, name="add_contract"),
    path("accounts/<int:pk>/log/", account.log_work, name="log_account_work"),
    path("contracts/import/", imports.import_contracts, name="import"),
    path("contracts/<int:pk>/", contract.contract, name="contract"),
    path("contracts/<int:pk>/conversation/", contract.conversation, name="conversation"),
    path("contracts/<int:pk>/outcome/", contract.outcome, name="outcome"),
    path("contracts/<int:pk>/log/", contract.log_work, name="log_contract_work"),
    path("expansion-leads/<int:pk>/upsell/", expansion.expansion_upsell, name="expansion_upsell"),
    path("expansion-leads/<int:pk>/not-now/", expansion.expansion_not_now, name="expansion_not_now"),
]
