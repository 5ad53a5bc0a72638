"""The people pass: link a tenant's records into people and deals, and plan each person's write-back.

It runs after every sync that read records and every stall pass of any connection of the tenant (so
a change on either side re-links), on the stored records only (no CRM reads):

1. the identities (e-mail, the ids a CRM keeps of the other CRM's records) of the records stored
   since the last pass are linked with :func:`mapping.people.link_records` under the workspace
   map's people rule, together with every record of the people (and deals) they were in or may
   join: those sharing an address, those they name, and those naming them that could not find
   them before. A link row remembers the stamp of the record version it was made from, so a pass
   after a sync that stored nothing new reads nothing else. The stall pass, the first pass of a
   workspace and one after more than ``INCREMENTAL_LIMIT`` records changed link every record
   (``full``): time alone moves people, and a new map may link them anew;
2. each person with more than one record gets one state (:func:`mapping.people.person_state`) on
   the workspace map, whose stage, persona, next best action, stall verdict and stage date become
   the write-back values of every record linked to it;
3. where those values changed (a new link, a broken one, a person who moved), the records of the
   connection being synced are re-planned at once (its lease is held), and the records of the
   tenant's other connections are queued for a targeted sync of their own, which plans them under
   their connection's lease (see ``verdicts.judge``'s ``person_values``);
4. the people summaries (:mod:`integration.store.people_summaries`) of the people and deals the
   pass re-linked are made afresh (every one on a full pass), in the same transaction as the links,
   so the workspace funnel reads one row per person.

A record that leaves a person (its e-mail changed) gets its own values back the same way. Deals are
linked for analytics only: each keeps its own stage and write-back.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from integration.store import outbox, people_summaries
from integration.store import records as record_store
from integration.services import Services
from integration.store.planner_statistics import Statistics
from integration.store.connections import connection_by_id, list_connections
from integration.store.links import (StoredIdentity, StoredLink, delete_orphan_links,
                                     groups_around, identity_pages, links_by_key, links_of_groups,
                                     record_documents, save_links)
from integration.store.models import RecordState
from integration.store.values import values_to_json
from integration.sync.map_in_force import workspace_map
from integration.sync.verdicts import stored_crm_values
from mapping import desired_writeback, plan_writeback
from mapping.people import PERSON, LinkItem, groups_of, link_records, normalize_email, person_state
from mapping.records import RecordRef
from mapping.serialize import identity_from_dict, record_from_dict, state_from_dict

log = logging.getLogger("journey.people")

Key = tuple[int, str, str]  # (connection id, object, CRM id)
RefKey = tuple[str, str, str, str]  # (kind, CRM, object, CRM id), as records name each other

#: Records stored since the last pass past which a pass links every record instead (the first
#: pass of a workspace, a bulk change): it reads them a page at a time in flat memory.
INCREMENTAL_LIMIT = 5000


@dataclass
class PeopleResult:
    """What a pass changed."""

    records: int = 0
    linked: int = 0
    relinked: int = 0
    replanned: int = 0
    queued: int = 0
    #: Link rows inserted, changed or deleted.
    links_written: int = 0
    #: Whether every people summary row of the tenant was made again.
    summary_remade: bool = False


def _text_key(key: Key) -> str:
    # Zero-padded so that the smallest key (the group's name) sorts the same as numbers would.
    return f"{key[0]:010d}:{key[1]}:{key[2]}"


def _key_of(text: str) -> Key:
    """The record key :func:`_text_key` wrote (a CRM id may itself hold colons)."""
    connection_id, obj, crm_id = text.split(":", 2)
    return int(connection_id), obj, crm_id


def people_pass(services: Services, connection_id: int, now: datetime,
                run_id: int | None = None, *, full: bool = False) -> PeopleResult | None:
    """Run :func:`refresh_people` for the tenant of ``connection_id`` in its own transaction.

    Two connections of a tenant may finish a sync at the same moment; the one that loses the race
    on a new link row leaves the work to the next pass (None) instead of failing its sync.
    """
    try:
        with services.session() as session:
            tenant_id = connection_by_id(session, connection_id).tenant_id
            result = refresh_people(session, tenant_id, connection_id, now, run_id, full=full)
    except IntegrityError:
        log.warning("people pass of connection %s met a concurrent pass; the next one re-links",
                    connection_id)
        return None
    if result.summary_remade:
        people_summaries.settle(services.engine)
    return result


def refresh_people(session: Any, tenant_id: int, connection_id: int, now: datetime,
                   run_id: int | None = None, *, full: bool = False) -> PeopleResult:
    """Re-link the records stored since the last pass with the people they leave or join, or
    with ``full`` every record of the tenant (giving every person the values of ``now``), and
    plan what changed (see the module docstring)."""
    connection_ids = [c.id for c in list_connections(session, tenant_id)]
    jmap = workspace_map(session, tenant_id).jmap
    # taken before anything is read: a sync committing meanwhile makes the summaries' basis old
    made_from = people_summaries.basis(session, connection_ids, jmap)
    if not full:
        changed = next(identity_pages(session, connection_ids, INCREMENTAL_LIMIT + 1,
                                      since_linked=True), [])
        if not changed:
            return PeopleResult()  # nothing stored since the last pass: every link stands
        if len(changed) <= INCREMENTAL_LIMIT:
            result, groups = _relink_around(session, tenant_id, changed, connection_id, jmap, now,
                                            run_id)
            people_summaries.refresh(session, tenant_id, connection_ids, jmap, groups, made_from)
            return result
    result = _relink_all(session, tenant_id, connection_ids, connection_id, jmap, now, run_id)
    # the hourly stall pass is a full pass: most hours it moves no link and writes no record,
    # and the rows it would make again are those it has (4.7 minutes at a million records)
    if result.links_written or not people_summaries.made_from(session, tenant_id, connection_ids,
                                                              jmap, made_from):
        people_summaries.rebuild(session, tenant_id, connection_ids, jmap, made_from)
        result.summary_remade = True
    return result


def _relink_around(session: Any, tenant_id: int, changed: list[StoredIdentity],
                   connection_id: int, jmap: Any, now: datetime,
                   run_id: int | None) -> tuple[PeopleResult, set[str]]:
    """Link the ``changed`` records with every record of the groups they were in or may join;
    returns what changed and the groups those records were and are in."""
    result = PeopleResult()
    items = _link_items(changed)
    stamps = {_text_key(key): stamp for key, _, _, stamp in changed}
    stored = links_of_groups(session, tenant_id, _groups_touched(session, tenant_id, items))
    rest = [key for key in stored if _text_key(key) not in stamps]
    items += _link_items([(key, doc["crm"], doc.get("identity"), stored[key].updated_at)
                          for key, doc in record_documents(session, rest).items()])
    result.records = len(items)
    links = link_records(items, jmap.people_rule)
    shared = groups_of(links, shared_only=True)
    kinds = {item.key: item.identity.kind for item in items}
    desired = _person_values(session, shared, kinds, jmap, now)
    result.linked = sum(values is not None for values in desired.values())
    present = {_ref_key(item) for item in items}
    changed_keys: list[Key] = []
    inserts, updates = _link_rows(tenant_id, items, stored, links, desired, present, stamps,
                                  result, changed_keys)
    linked = {item.key for item in items}
    # The rows read that no record of the pass claims belong to records no longer stored.
    save_links(session, inserts, updates,
               [row.id for key, row in stored.items() if _text_key(key) not in linked])
    result.replanned, result.queued = _replan(session, changed_keys, desired, connection_id, now,
                                              run_id)
    groups = {row.group_key for row in stored.values()} | {links.get(item.key, item.key)
                                                           for item in items}
    return result, groups


def _relink_all(session: Any, tenant_id: int, connection_ids: list[int], connection_id: int,
                jmap: Any, now: datetime, run_id: int | None) -> PeopleResult:
    """Re-link every record of the tenant.

    Memory stays flat whatever the workspace's size: the stored identities are read a page at a
    time, three times over. The first reading finds which records can link at all (those some
    record names, those naming one, and people whose e-mail another record shares, found by
    hash); only those are linked in memory; the last reading writes every record's link row
    page by page (a record that can link to none stands alone: its own group).
    """
    result = PeopleResult()
    rule = jmap.people_rule
    named, shared_emails = _link_candidates(session, connection_ids, rule.link_by_email)
    items = [item for page in identity_pages(session, connection_ids) for item in _link_items(page)
             if _may_link(item, named, shared_emails)]
    links = link_records(items, rule)
    shared = groups_of(links, shared_only=True)
    firsts = {members[0] for members in shared.values()}
    kinds = {item.key: item.identity.kind for item in items if item.key in firsts}
    # the named records that are stored: a name not among them is kept on its record's link
    present = {ref for item in items if (ref := _ref_key(item)) in named}
    del items
    desired = _person_values(session, shared, kinds, jmap, now)
    result.linked = sum(values is not None for values in desired.values())

    changed: list[Key] = []
    # The first pass of a big workspace fills the link table: unanalysed, each page's lookup of
    # 500 links would be planned as a walk through all of the connection's links.
    statistics = Statistics(("recordlink",))
    for page in identity_pages(session, connection_ids):
        page_items = _link_items(page)
        result.records += len(page_items)
        stored = links_by_key(session, [_key_of(item.key) for item in page_items])
        stamps = {_text_key(key): stamp for key, _, _, stamp in page}
        inserts, updates = _link_rows(tenant_id, page_items, stored, links, desired, present,
                                      stamps, result, changed)
        save_links(session, inserts, updates, [])
        result.links_written += len(inserts) + len(updates)
        statistics.grew(session, len(inserts))
    result.links_written += delete_orphan_links(session, tenant_id)
    result.replanned, result.queued = _replan(session, changed, desired, connection_id, now, run_id)
    return result


def _link_rows(tenant_id: int, items: list[LinkItem], stored: dict[Key, StoredLink],
               links: dict[str, str], desired: dict[str, dict[str, Any] | None],
               present: set[RefKey], stamps: dict[str, datetime], result: PeopleResult,
               changed: list[Key]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The link rows to insert and to update for ``items`` (a record whose row holds what it
    should keeps it untouched); records whose person values changed are added to ``changed``.
    A row carries the stamp of the record version linked (``stamps``, else its own)."""
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for item in items:
        text = item.key
        key = _key_of(text)
        values = desired.get(text)
        encoded = values_to_json(values) if values is not None else None
        row = stored.get(key)
        dangling = sorted(_ref_name(ref) for ref in item.identity.same_as
                          if (item.identity.kind, ref.crm, ref.object, ref.id) not in present)
        fresh = {"group_key": links.get(text, text), "email": normalize_email(item.identity.email),
                 "person_values": encoded, "dangling": dangling or None,
                 "updated_at": stamps[text] if text in stamps else row.updated_at}
        if row is None:
            inserts.append({"tenant_id": tenant_id, "connection_id": key[0], "object": key[1],
                            "crm_id": key[2], "kind": item.identity.kind, **fresh})
            if encoded is not None:
                changed.append(key)
        elif (row.group_key, row.email, row.person_values, row.dangling, row.updated_at) != (
                fresh["group_key"], fresh["email"], encoded, fresh["dangling"], fresh["updated_at"]):
            result.relinked += row.group_key != fresh["group_key"]
            if row.person_values != encoded:
                changed.append(key)
            updates.append({"id": row.id, **fresh})
    return inserts, updates


def _ref_key(item: LinkItem) -> RefKey:
    """How other records name ``item``."""
    return item.identity.kind, item.crm, item.object, item.id


def _ref_name(ref: RecordRef) -> str:
    return f"{ref.crm}:{ref.object}:{ref.id}"


def _groups_touched(session: Any, tenant_id: int, items: list[LinkItem]) -> set[str]:
    """The groups the records of ``items`` were in, and those they may join now."""
    connections_of: dict[str, list[int]] = {}
    for connection in list_connections(session, tenant_id):
        connections_of.setdefault(connection.crm, []).append(connection.id)
    emails = {email for item in items if item.identity.kind == PERSON
              and (email := normalize_email(item.identity.email))}
    refs = [(cid, ref.object, ref.id) for item in items for ref in item.identity.same_as
            for cid in connections_of.get(ref.crm, ())]
    names = {_ref_name(RecordRef(item.crm, item.object, item.id)) for item in items}
    return groups_around(session, tenant_id, [_key_of(item.key) for item in items], emails,
                         refs, names)


def _link_items(page: list[StoredIdentity]) -> list[LinkItem]:
    """The records of a page of identities that have one, as link items."""
    return [LinkItem(_text_key(key), crm, key[1], key[2], identity)
            for key, crm, document, _ in page if (identity := identity_from_dict(document)) is not None]


def _link_candidates(session: Any, connection_ids: list[int], by_email: bool
                     ) -> tuple[set[tuple[str, str, str, str]], set[int]]:
    """What can link: the records some record names ((kind, CRM, object, id)), and the hashes of
    the e-mail addresses more than one person holds (a hash collision only links-checks more)."""
    named: set[tuple[str, str, str, str]] = set()
    hashes: list[int] = []
    for page in identity_pages(session, connection_ids):
        for item in _link_items(page):
            kind = item.identity.kind
            named.update((kind, ref.crm, ref.object, ref.id) for ref in item.identity.same_as)
            email = normalize_email(item.identity.email) if by_email and kind == PERSON else None
            if email is not None:
                hashes.append(hash(email))
    hashes.sort()
    return named, {h for h, following in zip(hashes, hashes[1:]) if h == following}


def _may_link(item: LinkItem, named: set[tuple[str, str, str, str]], shared_emails: set[int]) -> bool:
    """Whether ``item`` can be linked to another record (else it stands alone)."""
    identity = item.identity
    if identity.same_as or (identity.kind, item.crm, item.object, item.id) in named:
        return True
    email = normalize_email(identity.email) if identity.kind == PERSON else None
    return email is not None and hash(email) in shared_emails


def _person_values(session: Any, groups: dict[str, list[str]], kinds: dict[str, str],
                   jmap: Any, now: datetime) -> dict[str, dict[str, Any] | None]:
    """The write-back values each record of a person with several records should hold
    (``groups``: groups of several records; ``kinds``: the kind of each group's first member)."""
    shared = {group: members for group, members in groups.items()
              if len(members) > 1 and kinds[members[0]] == PERSON}
    keys = {m: _key_of(m) for members in shared.values() for m in members}
    documents = record_documents(session, list(keys.values()))
    desired: dict[str, dict[str, Any] | None] = {}
    for members in shared.values():
        state = person_state([record_from_dict(documents[keys[m]]) for m in members], jmap, now)
        values = desired_writeback(state) if state is not None else None
        desired.update((m, values) for m in members)
    return desired


def _state_rows(session: Any, keys: list[Key]) -> dict[Key, RecordState]:
    by_connection: dict[int, list[tuple[str, str]]] = {}
    for cid, obj, crm_id in keys:
        by_connection.setdefault(cid, []).append((obj, crm_id))
    found: dict[Key, RecordState] = {}
    for cid, pairs in by_connection.items():
        for (obj, crm_id), row in record_store.states_by_key(session, cid, pairs).items():
            found[(cid, obj, crm_id)] = row
    return found


def _replan(session: Any, changed: list[Key], desired: dict[str, dict[str, Any] | None],
            connection_id: int, now: datetime, run_id: int | None) -> tuple[int, int]:
    """Plan the connection's own changed records now; queue the other connections' records."""
    own = [key for key in changed if key[0] == connection_id]
    rows = _state_rows(session, own)
    plans = {}
    for key in own:
        row = rows[key]
        values = desired.get(_text_key(key))
        if values is None:  # back to standing alone: the record's own values
            values = desired_writeback(state_from_dict(row.state))
        plans[(key[1], key[2])] = plan_writeback(values, stored_crm_values(row), now) or None
    if plans:
        outbox.replace_plans(session, connection_id, plans, run_id)
    others: dict[int, list[tuple[str, str]]] = {}
    for cid, obj, crm_id in changed:
        if cid != connection_id:
            others.setdefault(cid, []).append((obj, crm_id))
    queued = sum(record_store.queue_records(session, cid, pairs, now) for cid, pairs in others.items())
    return len(plans), queued
