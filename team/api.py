"""API tokens over the API: obtain one with a username and password, list and revoke your own."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, permissions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from kit.throttle import login_failed, login_wait

from . import tokens
from .models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at"]
        read_only_fields = fields


class ObtainTokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    name = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")


class IssuedTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(help_text="The token itself: shown this once, never again.")

    class Meta(ApiTokenSerializer.Meta):
        fields = ["token", *ApiTokenSerializer.Meta.fields]
        read_only_fields = fields


class ObtainTokenView(APIView):
    """A new token for a username and password (throttled per account and per client)."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=ObtainTokenRequestSerializer,
        responses={
            200: IssuedTokenSerializer,
            429: OpenApiResponse(
                description="Too many login attempts for this username or from this client: "
                "try again after ``Retry-After`` seconds."
            ),
        },
        auth=[],
    )
    def post(self, request):
        data = ObtainTokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wait = login_wait(request, data.validated_data["username"])
        if wait:
            raise exceptions.Throttled(wait=wait, detail="Too many login attempts.")
        user = authenticate(
            request=request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            login_failed(request, data.validated_data["username"])
            raise serializers.ValidationError(
                {"non_field_errors": ["Unable to log in with provided credentials."]}
            )
        token, token.token = tokens.issue_token(user=user, name=data.validated_data["name"])
        return Response(IssuedTokenSerializer(token).data)


class TokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The signed-in user's valid tokens; DELETE revokes one."""

    serializer_class = ApiTokenSerializer
    pagination_class = None
    queryset = ApiToken.objects.none()

    def list(self, request):
        return Response(self.get_serializer(tokens.tokens_of(request.user), many=True).data)

    def destroy(self, request, pk=None):
        try:
            token_id = int(pk)
        except (TypeError, ValueError):
            raise exceptions.NotFound() from None
        if not tokens.revoke_token(user=request.user, token_id=token_id):
            raise exceptions.NotFound()
        return Response(status=204)


def register(router) -> None:
    router.register("auth/tokens", TokenViewSet, basename="api-token")
