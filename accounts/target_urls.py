"""URLs of the accounts app's target pages (included by accounts/urls.py)."""

urlpatterns: list = []
