from dedupe.access import can_merge_people
from dedupe.access_companies import sees_company_duplicates
from leads.access import can_import, can_work_leads
from mail.access import may_have_mailbox
from propensity.access import may_see_best_customers
from team.access import can_manage_reps, can_work_queue
from team.models import Role


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_queue": can_work_queue(user),
        "nav_manage": can_manage_reps(user),
        "nav_leads": can_work_leads(user),
        "nav_imports": can_import(user),
        "nav_duplicates": can_merge_people(user),
        "nav_duplicate_companies": sees_company_duplicates(user),
        "nav_best_customers": may_see_best_customers(user),
        "nav_inbox": user.role == Role.AE,
        "nav_pipeline": user.role == Role.AE or can_manage_reps(user),
        "nav_targets": user.role == Role.OUTBOUND_SDR or can_manage_reps(user),
        # Every manager, as for Targets: asking whether they run an AM team would cost every
        # page a query.
        "nav_renewals": user.role == Role.AM or can_manage_reps(user),
        # The accounts list: the same people as renewals (an AM's book, a manager's AMs').
        "nav_accounts": user.role == Role.AM or can_manage_reps(user),
        "nav_mail": may_have_mailbox(user),
    }
