"""A self-contained HTML page around a redline (``policy-tracker diff --html FILE``)."""

from __future__ import annotations

from html import escape

_CSS = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; }
ins { background: #e6f4ea; color: #0b5d1e; text-decoration: underline; }
del { background: #fdecea; color: #8e1b1b; text-decoration: line-through; }
.redline-summary { border: 1px solid #ddd; border-radius: 4px; padding: 0.5rem 1rem; }
.redline-block.redline-added { border-left: 4px solid #2e7d32; padding-left: 0.5rem; }
.redline-block.redline-removed { border-left: 4px solid #c62828; padding-left: 0.5rem; }
.redline-block.redline-modified { border-left: 4px solid #ef6c00; padding-left: 0.5rem; }
.redline-moved, .redline-moved-from { border-left: 4px solid #1565c0; padding-left: 0.5rem; }
.redline-moved-text { color: #777; font-style: italic; }
.redline-note { font-size: 0.75em; color: #1565c0; margin-left: 0.4em; }
.redline-counts { color: #777; margin-left: 0.4em; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; }
"""


def standalone_page(title: str, body_html: str) -> str:
    """A full HTML document: ``title`` (escaped here) and a redline from ``render_html``."""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n{body_html}</body>\n</html>\n"
    )
