"""The versioned policy site: a MkDocs plugin (entry point ``policy-tracker``).

``plugin``     the thin plugin class wiring MkDocs' events
``config``     its typed options (documented in ``docs/site.md``)
``site``       what the site contains: pages, addresses, banners (pure)
``pages``      page builders: Markdown sources and Jinja templates around them
``versions``   ``versions.json`` (schema: ``versions.schema.json``)
``feed``       ``feed.xml``, the Atom feed of major and minor versions
"""
