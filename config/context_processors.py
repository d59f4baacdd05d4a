from leads.access import can_import, can_work_leads


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_leads": can_work_leads(user), "nav_imports": can_import(user)}
