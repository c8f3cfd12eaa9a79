"""Accessibility repairs to the theme's HTML that CSS cannot make."""

from __future__ import annotations

# Material for MkDocs renders its search overlay as role="dialog" with no accessible name, so
# a screen reader announces "dialog" and nothing else when it opens.
_SEARCH_DIALOG = 'data-md-component="search" role="dialog"'


def label_search_dialog(html: str, label: str = "Search") -> str:
    """Give the theme's search dialog an accessible name (a no-op on other themes)."""
    if _SEARCH_DIALOG not in html or f"{_SEARCH_DIALOG} aria-label=" in html:
        return html
    return html.replace(_SEARCH_DIALOG, f'{_SEARCH_DIALOG} aria-label="{label}"', 1)
