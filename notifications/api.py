"""The notification API: a person's own notifications (newest first; ?unread=true, ?kind=),
marking one read, marking all read."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import access, services
from .filters import NotificationFilter
from .models import Kind, Notification


class NotificationSerializer(serializers.ModelSerializer):
    # A plain string, not an enum: as other serializers do, to keep the schema's names unique.
    kind = serializers.CharField(read_only=True, help_text=f"One of: {', '.join(Kind.values)}.")
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    url = serializers.SerializerMethodField(help_text="The page it is about (absolute), or null.")
    read = serializers.BooleanField(source="is_read", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_label", "text", "url", "created_at", "read", "read_at"]
        read_only_fields = fields

    def get_url(self, notification) -> str | None:
        if not notification.url:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(notification.url) if request is not None else notification.url


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications, newest first; nobody else's are reachable (404)."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self):
        return access.own_notifications(self.request.user).newest_first()

    @extend_schema(
        request=None, responses={200: NotificationSerializer, 404: OpenApiResponse(description="Not yours.")}
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark it read (already read: unchanged)."""
        notification = self.get_object()
        services.mark_read(user=request.user, notification_id=notification.pk)
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("NotificationsMarkedRead", {"marked_read": serializers.IntegerField()})
        },
    )
    @action(detail=False, methods=["post"], url_path="read-all", filterset_class=None)
    def read_all(self, request):
        """Mark every unread notification of the caller read."""
        return Response({"marked_read": services.mark_all_read(user=request.user)})


def register(router) -> None:
    router.register("notifications", NotificationViewSet, basename="notification")
