from django.apps import AppConfig


class RenewalsConfig(AppConfig):
    name = "renewals"
    verbose_name = "Account management and renewals"

    def ready(self) -> None:
        from accounts.models import Opportunity
        from accounts.signals import opportunity_won

        from . import services

        opportunity_won.connect(
            services.on_opportunity_won, sender=Opportunity, dispatch_uid="renewals.contract_on_won"
        )
