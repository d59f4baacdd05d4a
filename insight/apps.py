from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "insight"
    verbose_name = "Insight: funnel, speed to lead, money, health, weekly summary"
