from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data set. It sits above every other app, since it seeds all of them."""

    name = "demo"
