from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and pipeline"

    def ready(self) -> None:
        from work.registry import register_reassigner

        from .models import Opportunity
        from .services import reassign_breached_handoffs

        register_reassigner(Opportunity, reassign_breached_handoffs)
