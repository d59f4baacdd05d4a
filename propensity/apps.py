from django.apps import AppConfig


class PropensityConfig(AppConfig):
    name = "propensity"
    verbose_name = "Learned propensity"

    def ready(self) -> None:
        from leads import learned

        from .scorer import SCORER

        learned.register(SCORER)
