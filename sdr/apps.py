from django.apps import AppConfig


class SdrConfig(AppConfig):
    name = "sdr"
    verbose_name = "Sales development"

    def ready(self) -> None:
        from leads.models import Lead
        from leads.signals import sales_ready
        from work.registry import register_reassigner

        from . import services

        sales_ready.connect(services.on_sales_ready, sender=Lead, dispatch_uid="sdr.route_sales_ready")
        register_reassigner(Lead, services.reassign_breached)
