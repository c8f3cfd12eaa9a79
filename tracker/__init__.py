"""policy-tracker: versioned legal policies from git, and who accepted which version."""

__version__ = "0.1.0"
