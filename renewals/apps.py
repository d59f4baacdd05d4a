from django.apps import AppConfig


class RenewalsConfig(AppConfig):
    name = "renewals"
    verbose_name = "Account management and renewals"

    def ready(self) -> None:
        from accounts.models import Opportunity
        from accounts.signals import opportunity_won
        from leads.models import Lead
        from leads.signals import customers_imported, import_undone
        from sdr.registry import register_claimer

        from . import services

        opportunity_won.connect(
            services.on_opportunity_won, sender=Opportunity, dispatch_uid="renewals.contract_on_won"
        )
        # Leads an import says are customers become contacts at customer accounts with an AM.
        customers_imported.connect(
            services.on_customers_imported, sender=Lead, dispatch_uid="renewals.customers_imported"
        )
        # Undoing such an import removes the accounts and contacts it made, untouched since.
        import_undone.connect(services.on_import_undone, sender=Lead, dispatch_uid="renewals.import_undone")
        # Leads from people at customer accounts go to the account's AM, not to the SDRs.
        register_claimer(services.claim_expansion_leads)
