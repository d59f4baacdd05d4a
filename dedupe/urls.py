from django.urls import path  # noqa: F401  (the finder's and the merge screens' routes)

app_name = "dedupe"

urlpatterns: list = []
