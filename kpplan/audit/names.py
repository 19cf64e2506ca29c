"""The records a page of history names, loaded together, and their names and links.

The trail names records by table and id and imports no feature's code: each model says how
it is named and linked (``sentences`` lists the attributes it reads). The records a page
of history names are loaded together: one query per kind of record (and per relationship
its name reads), whatever the number of entries; those deleted since keep the name their
latest entry on the page gave them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.core.links import row_link

#: Fields the trail keeps for its own use, never shown as a change.
HIDDEN_FIELDS = frozenset({"version", "updated_at", "created_at"})

#: The attributes that name a record without an ``audit_name``: the first it has.
_NAME_ATTRIBUTES = ("title", "name", "display_name", "code", "email")


def models_by_table() -> dict[str, type]:
    """Every model, by its table's name (as the trail names a record's kind)."""
    return {
        mapper.class_.__tablename__: mapper.class_
        for mapper in db.Model.registry.mappers
        if hasattr(mapper.class_, "__tablename__")
    }


def name_of(record: Any) -> str:
    """A loaded record's name in a sentence: its ``audit_name``, else its title, name,
    display name, code or e-mail, else its number."""
    name = getattr(record, "audit_name", None)
    if name:
        return str(name)
    for attribute in _NAME_ATTRIBUTES:
        value = getattr(record, attribute, None)
        if isinstance(value, str) and value:
            return value
    return f"no. {record.id}"


def _name_in(snapshot: dict[str, Any] | None) -> str | None:
    for key in _NAME_ATTRIBUTES:
        value = (snapshot or {}).get(key)
        if isinstance(value, str) and value:
            return value
    return None


class Links:
    """The addresses of a page of history, each kind of page's built once (``row_link``)
    rather than once per sentence."""

    def __init__(self) -> None:
        self._by_page: dict[tuple[str, str], Any] = {}

    def to(self, endpoint: str, argument: str, record_id: int) -> str | None:
        key = (endpoint, argument)
        if key not in self._by_page:
            try:
                self._by_page[key] = row_link(endpoint, argument)
            except BuildError:
                # A page whose address changed: the sentence stays, without its link.
                self._by_page[key] = None
        link = self._by_page[key]
        return link(record_id) if link is not None else None


def link_to(model: type | None, record: Any, links: Links) -> str | None:
    """The address of the record's page, if it has one."""
    if record is None:
        return None
    if hasattr(record, "audit_link"):
        endpoint, values = record.audit_link
        try:
            return url_for(endpoint, **values)
        except BuildError:
            return None
    if getattr(model, "__audit_link__", None):
        endpoint, argument = model.__audit_link__
        return links.to(endpoint, argument, record.id)
    return None


def referenced_table(model: type | None, field_name: str) -> str | None:
    """The table a ``*_id`` field of ``model`` points to, if it is a foreign key."""
    if model is None or field_name not in model.__table__.c:
        return None
    keys = list(model.__table__.c[field_name].foreign_keys)
    return keys[0].column.table.name if keys else None


def model_eager(model: type) -> tuple[str, ...]:
    """The relationships a record's ``audit_name`` reads."""
    return tuple(getattr(model, "__audit_eager__", ()))


def _loader(model: type, path: str):
    """``joinedload`` along a dotted path of relationships: "invitation_list.activity".

    Joined, not loaded in a query of their own: the records a name reads (an activity, a
    state) are one each, and a kind of record then costs one query however many
    relationships its name reads."""
    option = None
    for name in path.split("."):
        attribute = getattr(model, name)
        option = joinedload(attribute) if option is None else option.joinedload(attribute)
        model = attribute.property.mapper.class_
    return option


def _load(models: dict[str, type], wanted: dict[str, set[int]]) -> dict[tuple[str, int], Any]:
    """The records named by a page of history: one query per kind of record."""
    found: dict[tuple[str, int], Any] = {}
    for table, ids in wanted.items():
        model = models.get(table)
        if model is None or not ids or not hasattr(model, "id"):
            continue
        options = [_loader(model, path) for path in model_eager(model)]
        query = select(model).where(model.id.in_(sorted(ids))).options(*options)
        for record in db.session.scalars(query).unique():
            found[(table, record.id)] = record
    return found


def records_named(entries: list[AuditEntry], models: dict[str, type], known=()) -> dict:
    """The records the entries are about, and those their changed fields point to; those
    of ``known`` (records the page has loaded already) are not read again."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        if entry.object_id is not None:
            wanted[entry.object_type].add(entry.object_id)
        model = models.get(entry.object_type)
        for name, before, after in changed_fields(entry):
            table = referenced_table(model, name)
            if table:
                wanted[table].update(v for v in (before, after) if isinstance(v, int))
    found = {}
    for record in known:
        table = type(record).__tablename__
        # Only a record whose name reads no other record: the page loaded it for itself.
        if record.id in wanted.get(table, ()) and not model_eager(type(record)):
            found[(table, record.id)] = record
            wanted[table].discard(record.id)
    return {**found, **_load(models, wanted)}


def last_known_names(entries: list[AuditEntry], records) -> dict[tuple[str, int], str]:
    """For records deleted since: the name their latest entry on this page gave them."""
    names: dict[tuple[str, int], str] = {}
    for entry in sorted(entries, key=lambda e: (e.at, e.id)):
        key = (entry.object_type, entry.object_id)
        if key in records or entry.object_id is None:
            continue
        name = _name_in(entry.after) or _name_in(entry.before)
        if name:
            names[key] = name
    return names


def changed_fields(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    """The fields that differ, in the order the record lists them (not alphabetically)."""
    before, after = entry.before or {}, entry.after or {}
    names = list(dict.fromkeys([*after, *before]))
    return [
        (name, before.get(name), after.get(name))
        for name in names
        if before.get(name) != after.get(name) and name not in HIDDEN_FIELDS
    ]
