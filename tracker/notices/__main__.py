"""``python -m tracker.notices``: the ``dispatch`` command on its own (used by tests)."""

from tracker.notices.commands import dispatch

if __name__ == "__main__":
    dispatch()
