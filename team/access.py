"""Who manages whom and who works a queue: one module, used by every app's pages and API
(``team`` sits at the bottom, so ``work`` and ``sdr`` can both ask it)."""

from django.db.models import QuerySet

from .models import Role, Team, User


def can_work_queue(user) -> bool:
    """SDRs work their own queue."""
    return user.is_authenticated and user.is_sdr


def can_manage_reps(user) -> bool:
    """Managers (and superusers) see their teams' queues, reassign and review breaches."""
    return user.is_authenticated and (user.is_superuser or user.role == Role.MANAGER)


def managed_teams(user) -> QuerySet[Team]:
    """The teams whose queues and breaches a manager sees: those they manage (all for a
    superuser); none for anyone else."""
    if not user.is_authenticated:
        return Team.objects.none()
    if user.is_superuser:
        return Team.objects.all()
    if user.role == Role.MANAGER:
        return Team.objects.filter(manager=user)
    return Team.objects.none()


def reps_managed_by(user) -> QuerySet[User]:
    return User.objects.filter(team__in=managed_teams(user), role__in=(Role.INBOUND_SDR, Role.OUTBOUND_SDR))
