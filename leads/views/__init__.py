"""Lead pages, a module per page: the lead list and a lead's page (``leads``), its saved views (``saved_views``), the list's CSV export (``exports``), CSV imports
(``imports``) and the public web form (``webform``). ``leads/urls.py`` routes them; the web
form's route is the site's (``/f/<key>/``, in ``config/urls.py``)."""

from .exports import lead_export
from .imports import import_detail, import_for_real, import_list, import_mapping, refused_rows
from .leads import lead_detail, lead_list, log_activity, set_rating
from .saved_views import create_view, delete_view, edit_view, update_view
from .webform import web_form

__all__ = [
    "create_view",
    "delete_view",
    "edit_view",
    "import_detail",
    "import_for_real",
    "import_list",
    "import_mapping",
    "lead_detail",
    "lead_export",
    "lead_list",
    "log_activity",
    "refused_rows",
    "set_rating",
    "update_view",
    "web_form",
]
