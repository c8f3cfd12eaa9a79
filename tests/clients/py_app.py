"""A small app on the client openapi-python-client generates (default settings, no casts):
it records an acceptance, reads the user's status, and asks that user to accept again
(the re-acceptance body is one of two types: named users or all)."""

import json
import sys

from policy_tracker_client import AuthenticatedClient
from policy_tracker_client.api.audit import force_reacceptance
from policy_tracker_client.api.events import record_acceptance
from policy_tracker_client.api.status import get_user_status
from policy_tracker_client.models import (
    EventRequest,
    EventResult,
    Problem,
    Reacceptance,
    ReacceptanceOfUsers,
    UserStatus,
)


def main(base_url: str, key: str, user: str) -> None:
    client = AuthenticatedClient(base_url=base_url, token=key)
    with client:
        recorded = record_acceptance.sync(
            client=client, body=EventRequest(user_id=user, policy="privacy", version=1)
        )
        if not isinstance(recorded, EventResult):
            raise SystemExit(f"acceptance refused: {recorded}")
        status = get_user_status.sync(user, client=client, policy="privacy")
        if isinstance(status, Problem) or status is None:
            raise SystemExit(f"status refused: {status}")
        assert isinstance(status, UserStatus)
        privacy = next(p for p in status.policies if p.policy == "privacy")
        again = force_reacceptance.sync(
            client=client,
            body=ReacceptanceOfUsers(policy="privacy", reason="new terms", user_ids=[user]),
        )
        if not isinstance(again, Reacceptance):
            raise SystemExit(f"re-acceptance refused: {again}")
        print(
            json.dumps(
                {
                    "created": recorded.created,
                    "state": str(privacy.state),
                    "accepted_version": privacy.accepted_version,
                    "asked_again": again.users,
                }
            )
        )


if __name__ == "__main__":
    main(*sys.argv[1:4])
