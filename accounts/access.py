"""Who may see and do what in the accounts app: one module of named rules that every page, API
endpoint and service of the app asks.

- Opportunities: who sees them (``sees_opportunities``, ``visible_opportunities``), who works
  the pipeline (``can_work_pipeline``, ``sees_pipeline``, ``may_work``), who answers a handoff
  (``covers_handoff``, ``may_answer``), who closes one (``owns_or_manages``).
- Handoffs: who hands a lead off (``may_hand_off``).
- Logged work (calls, meetings, notes): who logs on an opportunity (``may_log_on_opportunity``:
  whoever works it) and on an account (``works_account``: its AM, their manager).
- Target accounts: who sees and manages them (``can_see_targets``, ``can_manage_targets``,
  ``visible_targets``, ``target_for``), to whom they go (``assignable_prospectors``), who adds
  prospects (``may_add_prospects``) and works their leads (``lead_worker``).

Pages and the API use the accessors (``opportunity_for``, ``handoff_for``, ``workable_for``,
``target_for``): 403 for a role with no business there, 404 for what the user may not see (ids
do not leak who owns what). Services ask the same predicates inside their transaction, on the
locked rows, and refuse with a message.
"""

from collections.abc import Callable, Mapping

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from leads.models import Lead
from team.access import can_manage_reps, can_work_queue, managed_teams
from team.models import Role, Team, User

from .models import Account, Opportunity, OpportunityQuerySet


def can_work_pipeline(user) -> bool:
    """AEs answer handoffs and close opportunities."""
    return user.is_authenticated and user.role == Role.AE


def sees_opportunities(user) -> bool:
    """Everyone who meets opportunities: AEs, the SDRs who hand them off, managers, marketing.
    Account managers work customers and renewals, not the pipeline."""
    return user.is_authenticated and (
        user.is_superuser or user.is_sdr or user.role in (Role.AE, Role.MANAGER, Role.MARKETING)
    )


def sees_pipeline(user) -> bool:
    """The pipeline pages: an AE's own, a manager's over their teams."""
    return can_work_pipeline(user) or can_manage_reps(user)


def reviews_early_losses(user) -> bool:
    return can_manage_reps(user)


def works_opportunities(user) -> bool:
    """Roles that may move or update an opportunity (its AE, their manager)."""
    return can_work_pipeline(user) or can_manage_reps(user)


def visible_opportunities(user) -> QuerySet[Opportunity]:
    """What this user may read (``Opportunity.objects.visible_to``)."""
    return Opportunity.objects.visible_to(user)


def pipeline_opportunities(user) -> OpportunityQuerySet:
    """What the pipeline pages list: ``Opportunity.objects.visible_to`` (an AE's own), with a
    manager's teams written as id subqueries rather than joins, so each board column stays an
    index read rather than a join over every opportunity (same rows)."""
    if can_work_pipeline(user):
        # An AE's pipeline is their own: ``visible_to`` adds their team's waiting handoffs with
        # an OR that keeps the planner off the pipeline index (73 ms instead of 6 for a board).
        return Opportunity.objects.filter(owner=user)
    if can_manage_reps(user) and not user.is_superuser:
        members = User.objects.filter(team__in=managed_teams(user)).values("pk")
        # Renewals are worked on the renewals page, not on the new-business board.
        return Opportunity.objects.filter(Q(owner_id__in=members) | Q(sdr_id__in=members)).exclude(
            kind=Opportunity.Kind.RENEWAL
        )
    return Opportunity.objects.visible_to(user).exclude(kind=Opportunity.Kind.RENEWAL)


def team_handoffs(user) -> QuerySet[Opportunity]:
    """Handoffs waiting for a teammate of this AE: the inbox's "cover for a colleague" part."""
    if not can_work_pipeline(user) or user.team_id is None:
        return Opportunity.objects.none()
    # A join on the team, not ``owner_id IN (teammate_ids)``: with the row query's joins and
    # subqueries the IN form took 35 ms to plan; the join is served by opportunity_pending.
    return Opportunity.objects.inbox().filter(owner__team_id=user.team_id).exclude(owner=user)


def teammate_ids(user) -> QuerySet[User, Mapping[str, object]]:
    """The ids of the AE's team (them included), as a subquery: counting ``owner_id IN (...)``
    reads the inbox index per AE, where a join on the team walked every live opportunity."""
    return User.objects.filter(team_id=user.team_id).values("pk")


def _get(queryset: QuerySet[Opportunity], pk) -> Opportunity:
    try:
        return queryset.get(pk=pk)
    except (Opportunity.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such opportunity.") from None


def is_own_upsell(user, opportunity: Opportunity) -> bool:
    """An AM's own upsell / cross-sell: the only opportunities an AM opens and works on the
    opportunity pages (renewals close on the contract's page)."""
    return (
        user.is_authenticated
        and user.role == Role.AM
        and opportunity.owner_id == user.pk
        and opportunity.kind == Opportunity.Kind.EXPANSION
    )


def owns_upsell(user, pk) -> bool:
    """An account manager opens and works the upsells / cross-sells they own (their customers'
    expansion leads become these); no other opportunity page is theirs."""
    if not (user.is_authenticated and user.role == Role.AM):
        return False
    try:
        return Opportunity.objects.filter(pk=pk, owner=user, kind=Opportunity.Kind.EXPANSION).exists()
    except (ValueError, TypeError, OverflowError):
        return False


def opportunity_for(user, pk) -> Opportunity:
    """The opportunity if this user may see it: 403 for roles that never see opportunities,
    404 for one that exists but is not theirs to see."""
    if not (sees_opportunities(user) or owns_upsell(user, pk)):
        raise PermissionDenied("Your role does not work with opportunities.")
    return _get(
        visible_opportunities(user).select_related(
            "account",
            "contact",
            "lead",
            "lead__campaign",
            "stage",
            "owner__team__calendar",
            "sdr",
            "campaign",
        ),
        pk,
    )


def handoff_for(user, pk) -> Opportunity:
    """An opportunity this AE may accept or reject: their own or a teammate's, in any state, so
    that answering one twice (or after a colleague did) says "already answered" rather than
    "not found". 403 for anyone but an AE."""
    if not can_work_pipeline(user):
        raise PermissionDenied("Only an account executive accepts or rejects a handoff.")
    scope = Q(owner=user)
    if user.team_id is not None:
        scope |= Q(owner__team_id=user.team_id)
    return _get(Opportunity.objects.filter(scope).select_related("account", "stage", "owner", "sdr"), pk)


def workable_for(user, pk) -> Opportunity:
    """An opportunity this user may move or update: 403 for roles that never do, 404 for one
    they cannot see, 403 for one they see but do not work (an SDR team's manager, marketing)."""
    if not (works_opportunities(user) or owns_upsell(user, pk)):
        raise PermissionDenied("Only the opportunity's AE or their manager works it.")
    opportunity = opportunity_for(user, pk)
    if not may_work(user, opportunity):
        raise PermissionDenied("Only the opportunity's AE or their manager works it.")
    return opportunity


def manages_rep(user, rep: User) -> bool:
    """The manager of the rep's team (or a superuser)."""
    if user.is_superuser:
        return True
    return can_manage_reps(user) and rep.team is not None and rep.team.manager_id == user.pk


def owns_or_manages(user, opportunity: Opportunity) -> bool:
    """Who may move or update an opportunity (the closing services' rule): its owner, or the
    manager of the owner's team (or a superuser)."""
    return user.pk == opportunity.owner_id or manages_rep(user, opportunity.owner)


def may_work(user, opportunity: Opportunity) -> bool:
    """Whether the move and details forms are this user's to use (whatever the state). An AM
    works the upsells / cross-sells they own; renewals close on the contract's page."""
    if user.role == Role.AM:
        return is_own_upsell(user, opportunity)
    return owns_or_manages(user, opportunity)


def workable_owner_ids(user) -> set[int] | None:
    """The AEs whose opportunities this user may move (None: anyone's, for a superuser): the
    same rule as ``may_work``, for a whole board in one query."""
    if user.is_superuser:
        return None
    if can_manage_reps(user):
        return set(User.objects.filter(team__manager=user).values_list("pk", flat=True))
    return {user.pk} if can_work_pipeline(user) else set()


def covers_handoff(user, opportunity: Opportunity) -> bool:
    """The handoff went to this AE, or to a teammate they may cover for."""
    return user.pk == opportunity.owner_id or (
        user.team_id is not None and user.team_id == opportunity.owner.team_id
    )


def may_answer(user, opportunity: Opportunity) -> bool:
    """Whether accept and reject are shown: a waiting handoff, to its AE or a teammate."""
    return (
        can_work_pipeline(user)
        and opportunity.status == Opportunity.Status.HANDED_OFF
        and covers_handoff(user, opportunity)
    )


def aes_managed_by(user) -> QuerySet[User]:
    """The AEs a manager may filter the pipeline by: those of the teams they manage (all for a
    superuser); an AE only themself."""
    if can_work_pipeline(user):
        return User.objects.filter(pk=user.pk)
    return User.objects.filter(role=Role.AE, team__in=managed_teams(user))


# --- handoffs --------------------------------------------------------------------------------


def takes_handoffs(user) -> bool:
    """Who a handoff may go to: an active AE."""
    return user.role == Role.AE and user.is_active


def handoff_recipients() -> QuerySet[User]:
    """The AEs an SDR may choose by hand (``takes_handoffs``, for a form's or the API's choices)."""
    return User.objects.filter(role=Role.AE, is_active=True)


def may_hand_off(user) -> bool:
    """SDRs hand off the leads of their queue; managers (and superusers) those of their teams'
    queues (which leads: ``sdr.access.queue_lead_for``)."""
    return can_work_queue(user) or can_manage_reps(user)


# --- target accounts ---------------------------------------------------------------------------


def can_see_targets(user) -> bool:
    """Outbound SDRs work their target accounts; managers (and superusers) oversee them."""
    return user.is_authenticated and (user.role == Role.OUTBOUND_SDR or can_manage_reps(user))


def can_manage_targets(user) -> bool:
    """Managers (and superusers) create target accounts and assign them."""
    return can_manage_reps(user)


def visible_targets(user) -> QuerySet[Account]:
    """The target accounts this user sees: an outbound SDR's own, a manager's teams' SDRs'
    (all for a superuser). 403 for every other role."""
    if not can_see_targets(user):
        raise PermissionDenied("Your role has no target accounts.")
    targets = Account.objects.filter(prospector__isnull=False)
    if user.is_superuser:
        return targets
    if user.role == Role.OUTBOUND_SDR:
        return targets.filter(prospector=user)
    return targets.filter(prospector__team__in=managed_teams(user))


def target_for(user, pk) -> Account:
    """One account for the target page: one of ``visible_targets``, or, for a manager, an
    account nobody prospects yet (so they can assign it). 404 for anything else."""
    accounts = visible_targets(user)
    if can_manage_targets(user):
        accounts = Account.objects.filter(Q(pk__in=accounts.values("pk")) | Q(prospector__isnull=True))
    try:
        # The calendar gives the zone the page shows due times in.
        return accounts.select_related("prospector__team__calendar").get(pk=pk)
    except (Account.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such target account.") from None


def is_prospector(user) -> bool:
    """Who a target account may go to: an active outbound SDR."""
    return user.role == Role.OUTBOUND_SDR and user.is_active


def assignable_prospectors(user) -> QuerySet[User]:
    """The outbound SDRs a manager may give a target account to: active, in teams they run."""
    if not can_manage_targets(user):
        return User.objects.none()
    return User.objects.filter(team__in=managed_teams(user), role=Role.OUTBOUND_SDR, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def prospector_choices(user) -> QuerySet[User]:
    """The SDRs the target list may be narrowed to: a manager any of their outbound SDRs, an
    outbound SDR only themself."""
    if user.role == Role.OUTBOUND_SDR:
        return User.objects.filter(pk=user.pk)
    return assignable_prospectors(user)


def may_add_prospects(user, account: Account) -> bool:
    """The account's outbound SDR, or their manager (or a superuser), adds prospects to it;
    nobody to an account that is not a target."""
    prospector = account.prospector
    if prospector is None:
        return False
    return user.pk == prospector.pk or manages_rep(user, prospector)


def lead_worker(user) -> Callable[[Lead], bool]:
    """Whether this user may enroll a prospect's lead in a cadence or stop it (the rule of
    ``sdr.access.queue_lead_for``): a predicate for a page of leads, one query for all."""
    team_ids = set(managed_teams(user).values_list("pk", flat=True)) if user.role == Role.MANAGER else set()

    def may_work_lead(lead: Lead) -> bool:
        return (
            user.is_superuser
            or lead.owner_id == user.pk
            or lead.team_id in team_ids
            or (lead.owner is not None and lead.owner.team_id in team_ids)
        )

    return may_work_lead


# --- logged work (calls, meetings, notes) -------------------------------------------------------


def works_account(user, account: Account) -> bool:
    """The account's AM, a manager of the AM's team (or of an AM team, while it has no AM), or
    a superuser: who works a customer account (``renewals.access.may_work_account`` is this
    rule) and logs calls, meetings and notes on it. ``account.account_manager`` is read."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if user.role == Role.AM:
        return account.account_manager_id == user.pk
    if user.role == Role.MANAGER:
        am = account.account_manager
        if am is None:
            return Team.objects.filter(manager=user, kind=Team.Kind.ACCOUNT_MANAGEMENT).exists()
        return am.team_id is not None and Team.objects.filter(pk=am.team_id, manager=user).exists()
    return False


def may_log_on_opportunity(user, opportunity: Opportunity) -> bool:
    """Whoever works the opportunity logs on it: its AE and their manager, an AM on the upsells
    they own (``may_work``), in any state (a note after a loss is still worth keeping)."""
    return user.is_authenticated and may_work(user, opportunity)
