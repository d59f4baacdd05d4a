from django.apps import AppConfig


class SdrConfig(AppConfig):
    name = "sdr"
