from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "mail"
    verbose_name = "Email"
    default_auto_field = "django.db.models.BigAutoField"
