"""Sphinx extension of the book: the repository, issues and Binder buttons, and the substitution
``{{ repository }}`` in the pages, follow ``repository.url`` in ``_config.yml``.

Jupyter Book 1 needs three settings for these buttons (``html.use_repository_button``, ``html.use_issues_button``,
``launch_buttons.binderhub_url``) and stops with an error when a button is on while the repository URL is empty.
With this extension the URL is the one place: empty, every button stays off; set, all of them are on (Binder at
https://mybinder.org, which builds the root ``environment.yml``). ``{{ repository }}`` becomes a link to the
repository, or says that it has no public address yet.
"""

from __future__ import annotations

BINDERHUB_URL = "https://mybinder.org"


def _switch_buttons(app, config) -> None:
    options = dict(config.html_theme_options or {})
    url = str(options.get("repository_url", "")).strip()
    substitutions = dict(getattr(config, "myst_substitutions", None) or {})
    substitutions["repository"] = (f"[{url.removeprefix('https://')}]({url})" if url
                                   else "its public address will be given here once it is published")
    config.myst_substitutions = substitutions
    if not url:
        return
    options.update(use_repository_button=True, use_issues_button=True)
    launch = dict(options.get("launch_buttons") or {})
    launch.setdefault("notebook_interface", "jupyterlab")
    if not launch.get("binderhub_url"):
        launch["binderhub_url"] = BINDERHUB_URL
    options["launch_buttons"] = launch
    config.html_theme_options = options


def setup(app):
    app.connect("config-inited", _switch_buttons)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
