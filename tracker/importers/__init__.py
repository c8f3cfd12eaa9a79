"""Bringing another system's policies and acceptances into the tracker: today
django-termsandconditions (``policy-tracker import django-termsandconditions``)."""

from tracker.importers.run import ImportResult, import_termsandconditions
from tracker.importers.termsandconditions import PeerError

__all__ = ["ImportResult", "PeerError", "import_termsandconditions"]
