"""Two entrypoints, a fork and a join: the diagram shows every path at once.

Run it with ``python examples/user_update.py``.
"""

from __future__ import annotations

import logging

from penstock import entrypoint, flow, generate_dag, set_flow_context_value, step

log = logging.getLogger("accounts")


@flow("user_update")
class UserUpdate:
    """Change a user's profile, from the public API or from the admin console."""

    @entrypoint
    def api_request(self, user: str, email: str) -> None:
        """A user edits their own profile through the API."""
        set_flow_context_value("actor", user)
        self.validate(user, email)

    @entrypoint
    def admin_action(self, admin: str, user: str, email: str, *, force: bool = False) -> None:
        """An administrator edits someone's profile."""
        set_flow_context_value("actor", admin)
        if force:
            # An emergency fix that skips validation. The diagram does not show this path;
            # penstock.observe() notices it as an undeclared transition.
            self.persist(user, email)
            return
        self.validate(user, email)

    @step(after=["api_request", "admin_action"])
    def validate(self, user: str, email: str) -> None:
        """Reject malformed changes."""
        if "@" not in email:
            msg = f"not an e-mail address: {email!r}"
            raise ValueError(msg)
        self.persist(user, email)
        self.notify(user)

    @step(after="validate")
    def persist(self, user: str, email: str) -> None:
        """Store the change."""
        log.info("stored new address for %s", user)
        self.audit_log("persist")

    @step(after="validate")
    def notify(self, user: str) -> None:
        """Tell the user what changed."""
        log.info("notified %s", user)
        self.audit_log("notify")

    @step(after=["persist", "notify"])
    def audit_log(self, event: str) -> None:
        """Record who did what."""
        log.info("audit: %s", event)


if __name__ == "__main__":
    from penstock.contrib.logging import install

    logging.basicConfig(
        level=logging.INFO,
        format="%(levelname)-5s %(name)-9s %(message)s  [%(step)s cid=%(correlation_id)s]",
    )
    install()
    UserUpdate().api_request("alice", "alice@example.com")
    UserUpdate().admin_action("root", "bob", "bob@example.com")
    try:
        UserUpdate().api_request("carol", "not-an-address")
    except ValueError as exc:
        log.warning("rejected: %s", exc)
    print(generate_dag("user_update"))
