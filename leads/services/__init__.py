from .capture import *  # noqa: F403 (temporary: the split follows in the next commit)
from .capture import _import_batch, _last_drain_request  # noqa: F401
