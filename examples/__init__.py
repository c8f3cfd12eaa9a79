"""Example integrations of policy-tracker (run by tests/client)."""
