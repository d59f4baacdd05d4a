"""Lead pages, a module per page: the lead list and a lead's page (``leads``), CSV imports
(``imports``) and the public web form (``webform``). ``leads/urls.py`` routes them; the web
form's route is the site's (``/f/<key>/``, in ``config/urls.py``)."""

from .imports import import_detail, import_list
from .leads import lead_detail, lead_list, log_activity, set_rating
from .webform import web_form

__all__ = [
    "import_detail",
    "import_list",
    "lead_detail",
    "lead_list",
    "log_activity",
    "set_rating",
    "web_form",
]
