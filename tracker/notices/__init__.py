"""Change notices pushed to apps: the outbox's webhook signing, URL checks and dispatcher.

The tables and the set-based fan-out live in ``tracker.store.notices``; this package turns
outbox rows into signed HTTP requests (``dispatch``) and manages endpoints (``webhooks``).
"""
