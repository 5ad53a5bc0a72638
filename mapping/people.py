"""One person (and one deal) across CRMs: which records are linked, and the person's journey.

Linking (:func:`link_records`):
- A record whose CRM names the same record in another CRM (``Identity.same_as``, e.g. HubSpot's
  ``salesforcecontactid``) is linked to that record when it is known.
- Otherwise, when the map's people rule allows it, person records with the same e-mail address
  (trimmed, compared without case) are linked.
- Links are transitive: a group is every record reachable through them. Persons and deals never mix.

A person's journey (:func:`person_state`): every linked record is classified on the map, and the
person takes the state of one of them, the *lead*: by default the record in the furthest journey
stage (the earliest to enter it on a tie). An exit counts only when every placed record is in an
exit (then the most recent exit leads). Records the map does not place are left out. Persona, next
best action and the stall verdict are the lead record's, so they follow from the person's stage.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Mapping, Sequence

from mapping.classify import JourneyState, classify
from mapping.model import JourneyMap, PeopleRule
from mapping.records import CrmRecord, Identity

PERSON = "person"
DEAL = "deal"
_NEVER = datetime.min.replace(tzinfo=timezone.utc)


def normalize_email(value: str | None) -> str | None:
    """An e-mail address as compared for linking: trimmed and lower-case; None when blank."""
    if value is None:
        return None
    text = value.strip().lower()
    return text or None


@dataclass(frozen=True, slots=True)
class LinkItem:
    """One record to link: ``key`` is unique in the workspace (the caller's own record key)."""

    key: str
    crm: str
    object: str
    id: str
    identity: Identity


def link_records(items: Iterable[LinkItem], rule: PeopleRule | None = None) -> dict[str, str]:
    """Group linked records. Returns each item's key -> its group key (the group's smallest key)."""
    rule = rule or PeopleRule()
    items = list(items)
    parent = {item.key: item.key for item in items}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def join(a: str, b: str) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    # Only records some other record names are looked up by reference (most are named by none).
    named = {(item.identity.kind, ref.crm, ref.object, ref.id)
             for item in items for ref in item.identity.same_as}
    by_ref = {ref: item.key for item in items
              if (ref := (item.identity.kind, item.crm, item.object, item.id)) in named}
    by_email: dict[tuple[str, str], str] = {}
    for item in items:
        kind = item.identity.kind
        targets = [by_ref[(kind, ref.crm, ref.object, ref.id)] for ref in item.identity.same_as
                   if (kind, ref.crm, ref.object, ref.id) in by_ref]
        for target in targets:
            join(item.key, target)
        email = normalize_email(item.identity.email) if kind == PERSON else None
        if targets or email is None or not rule.link_by_email:
            continue
        first = by_email.setdefault((kind, email), item.key)
        join(item.key, first)
    return {item.key: root(item.key) for item in items}


def groups_of(links: Mapping[str, str], *, shared_only: bool = False) -> dict[str, list[str]]:
    """Group key -> member keys (sorted), from :func:`link_records`'s answer; with
    ``shared_only``, only the groups of more than one record (records standing alone are most)."""
    if shared_only:
        joined = {group for key, group in links.items() if group != key}
        keys = sorted(key for key, group in links.items() if group in joined)
    else:
        keys = sorted(links)
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(links[key], []).append(key)
    return groups


def lead_state(states: Sequence[JourneyState], rule: PeopleRule | None = None) -> JourneyState | None:
    """The state that stands for the whole group under ``rule``; None when none is placed."""
    rule = rule or PeopleRule()
    placed = [s for s in states if not s.unmapped]
    if not placed:
        return None
    open_ = [s for s in placed if not s.is_exit]
    if open_ and rule.stage == "furthest":
        # Furthest stage; on a tie the record that entered it first (the person was there then).
        return min(open_, key=lambda s: (-s.stage_index, s.entered_at or _NEVER, s.crm, s.object, s.id))
    pool = open_ or placed
    return max(pool, key=lambda s: (s.entered_at or _NEVER, s.crm, s.object, s.id))


def person_state(records: Sequence[CrmRecord], jmap: JourneyMap, now: datetime) -> JourneyState | None:
    """The journey state of the person (or deal) that ``records`` are linked into, as of ``now``.

    It is the lead record's state (see :func:`lead_state`); None when the map places none of them.
    """
    return lead_state([classify(record, jmap, now) for record in records], jmap.people_rule)
