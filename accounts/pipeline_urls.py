"""URLs of the accounts app's pipeline pages (included by accounts/urls.py)."""

urlpatterns: list = []
