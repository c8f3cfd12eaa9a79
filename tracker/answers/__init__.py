"""What the tracker answers, formatted from the store's rows: one formatter per resource.

``status`` (a user's status, the bytes the status endpoints send) and ``notices`` (a notice
as the API, the evidence bundle and the webhook payloads give it). The store returns rows
and plain values; the service, the evidence bundle and the webhook payloads call these to
turn them into answers, so each resource has one format wherever it is given.
"""
