from django.urls import include, path

app_name = "dedupe"

urlpatterns: list = [
    path("companies/", include("dedupe.urls_companies")),
]
