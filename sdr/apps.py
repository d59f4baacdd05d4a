from django.apps import AppConfig


class SdrConfig(AppConfig):
    name = "sdr"
    verbose_name = "Sales development"

    def ready(self) -> None:
        from leads.models import Lead
        from leads.signals import hand_raised, sales_ready
        from work.registry import register_reassigner

        from . import services

        sales_ready.connect(services.on_sales_ready, sender=Lead, dispatch_uid="sdr.route_sales_ready")
        hand_raised.connect(services.on_hand_raised, sender=Lead, dispatch_uid="sdr.tighten_hand_raised")
        register_reassigner(Lead, services.reassign_breached)
