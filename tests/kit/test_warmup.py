"""A web process compiles the project's templates at start (config/gunicorn.py), so no
rep's first view of a page pays for it."""

from django.template import engines

from kit.warmup import project_templates, warm_up


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
