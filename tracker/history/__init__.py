"""Git history → policy versions. The only package that imports GitPython.

Public API (used by the CLI, the site plugin and the tracker's sync):

``read_catalog(repository, *, source="policy", ref="HEAD", drafts=True) -> Catalog``
    One first-parent pass over ``ref``; every ``*.md`` under ``source`` is a policy.
    Undeclared versions get the redline classifier's verdict. Drafts (uncommitted
    working-tree edits to a policy's title or body) are attached as ``Policy.draft``
    when ``drafts`` is true. Raises ``RepositoryError``/``SourceError``/``DeclarationError``.

``commits_in_range(repository, base, ref="HEAD") -> list[str]``
    SHAs of the first-parent commits of ``ref`` that ``base`` does not reach (``base..ref``),
    oldest first; what ``policy-tracker check`` reports on.
"""

from tracker.history.reader import commits_in_range, read_catalog

__all__ = ["commits_in_range", "read_catalog"]
