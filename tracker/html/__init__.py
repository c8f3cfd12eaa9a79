"""What the HTML pages the service renders itself (the console, the hosted acceptance page)
share: how their Jinja templates are loaded and escaped, the ``<meta>`` tags of their
``<head>`` (``templates/meta.html``: no referrer, so that a link's or a sign-in's token in
the address never leaves in a ``Referer``), and how they write a day.

The published site (:mod:`tracker.publish`) writes days the same way; its own templates keep
their whitespace rules, so its pages do not change."""

from __future__ import annotations

from datetime import date

import jinja2


def environment(package: str) -> jinja2.Environment:
    """The templates in ``package``'s ``templates`` folder, then the shared ones here (the
    ``<meta>`` tags every page has: ``{% include "meta.html" +%}``): autoescaped, a missing
    variable an error (never an empty string), block tags leaving no blank lines."""
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader(package, "templates"),
                jinja2.PackageLoader(__name__, "templates"),
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def human_date(value: date) -> str:
    """``2024-03-05`` → ``5 March 2024`` (locale-independent, unambiguous)."""
    return f"{value.day} {value:%B %Y}"
