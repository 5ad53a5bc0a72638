"""The owners API (``/crm/v3/owners``): the users who can own records, as HubSpot lists them."""
from __future__ import annotations

from typing import Any, Iterable

from .seed import OwnerSeed

#: HubSpot's page size limit for the owners list.
MAX_LIMIT = 500


class Owners:
    """The portal's owners: the seed's, plus one made up for each owner id a record names (the
    real CRM only accepts ids of existing owners, so every referenced id must resolve)."""

    def __init__(self, seeded: Iterable[OwnerSeed], referenced: Iterable[str], created_at: str) -> None:
        self._created_at = created_at
        self.by_id: dict[str, dict[str, Any]] = {}
        for owner in seeded:
            self._add(owner.id, owner.email, owner.firstName, owner.lastName)
        self.refer(referenced)

    def refer(self, owner_ids: Iterable[str]) -> None:
        """Make up an owner for each of ``owner_ids`` the portal does not have yet."""
        for owner_id in sorted(set(owner_ids) - set(self.by_id)):
            self._add(owner_id, f"owner{owner_id}@sandbox.example", "Owner", owner_id)

    def _add(self, owner_id: str, email: str, first: str, last: str) -> None:
        self.by_id[owner_id] = {
            "id": owner_id, "email": email, "type": "PERSON", "firstName": first, "lastName": last,
            "userId": int(owner_id) + 1000, "userIdIncludingInactive": int(owner_id) + 1000,
            "createdAt": self._created_at, "updatedAt": self._created_at, "archived": False,
            "teams": []}

    def page(self, limit: int, after: str | None, email: str | None) -> dict[str, Any]:
        """One page of the list, ordered by id; ``paging.next.after`` when more follow."""
        owners = [o for o in sorted(self.by_id.values(), key=lambda o: int(o["id"]))
                  if email is None or o["email"] == email]
        start = int(after) if after and after.isdigit() else 0
        chunk = owners[start:start + limit]
        body: dict[str, Any] = {"results": chunk}
        if start + limit < len(owners):
            body["paging"] = {"next": {"after": str(start + limit),
                                       "link": f"/crm/v3/owners/?after={start + limit}"}}
        return body
