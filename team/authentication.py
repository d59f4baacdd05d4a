"""DRF authentication by API token. Kept apart from ``team.api``: DRF imports the classes named in
its settings while its own views module loads, so this module must not import views."""

from rest_framework import authentication, exceptions

from . import tokens


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <token>`` with ``team.tokens``: expiring, hashed, voided by a
    password change."""

    def authenticate_credentials(self, key):
        token = tokens.authenticate_token(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return (token.user, token)
