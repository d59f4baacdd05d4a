"""A web process compiles the project's templates at start (config/gunicorn.py), so no
rep's first view of a page pays for it; then what it keeps for life is frozen out of the garbage
collector's walks, so no view pays for walking it."""

import gc

from django.template import engines

from kit.warmup import freeze_heap, project_templates, warm_up


def test_every_project_template_is_found_and_none_from_installed_packages():
    names = [name for _, name in project_templates()]
    assert "base.html" in names and "sdr/queue.html" in names
    assert not any(name.startswith(("rest_framework/", "admin/", "django_filters/")) for name in names)


def test_warm_up_leaves_the_templates_compiled_in_the_loaders_cache():
    engine = engines["django"].engine
    cached = next(loader for loader in engine.template_loaders if hasattr(loader, "get_template_cache"))
    cached.reset()
    assert "sdr/queue.html" not in cached.get_template_cache
    compiled = warm_up()
    assert compiled == len(project_templates())
    assert "sdr/queue.html" in cached.get_template_cache
    assert "base.html" in cached.get_template_cache


def test_what_the_process_keeps_is_frozen_out_of_full_collections():
    warm_up()
    kept = [[n] for n in range(200_000)]  # a large heap kept for life, as modules and templates are
    try:
        gc.collect()
        tracked = len(gc.get_objects())  # what a full collection walks

        frozen = freeze_heap()

        assert frozen >= len(kept)
        assert len(gc.get_objects()) < tracked - len(kept)  # a full collection walks them no more
        gc.collect()
        assert kept[-1] == [199_999]  # frozen, not freed
    finally:
        gc.unfreeze()  # the test process goes on collecting as before
