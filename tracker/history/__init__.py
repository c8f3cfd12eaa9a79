"""Git history → policy versions. The only package that imports GitPython.

Public API (used by the CLI, the site plugin and the tracker's sync):

``read_catalog(repository, *, classify, source="policy", ref="HEAD", drafts=True) -> Catalog``
    One first-parent pass over ``ref``; every ``*.md`` under ``source`` is a policy.
    Undeclared versions get the verdict of ``classify(previous_text, text)`` (callers hand in
    ``tracker.redline.suggest``: history never imports the diff engine). Drafts (uncommitted
    working-tree edits to a policy's title or body) are attached as ``Policy.draft``
    when ``drafts`` is true. Raises ``RepositoryError``/``SourceError``/``DeclarationError``.

``commits_in_range(repository, base, ref="HEAD") -> list[str]``
    SHAs of the first-parent commits of ``ref`` that ``base`` does not reach (``base..ref``),
    oldest first; what ``policy-tracker check`` reports on.
"""

from tracker.history.reader import Classifier, commits_in_range, read_catalog

__all__ = ["Classifier", "commits_in_range", "read_catalog"]
