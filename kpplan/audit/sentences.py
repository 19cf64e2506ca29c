"""The audit trail read as sentences: who did what to which record, with names and links.

"Amina Diallo (secretariat) changed the status of Kenya's follow-up of KP-2022/R3 from In
progress to Implemented", rather than ids and stored values. The trail names records by
table and id and imports no feature's code, so each model describes itself, as it already
gives its ``__audit_label__``:

``__audit_noun__``
    the record in a sentence, singular: ``"activity"``, ``"follow-up"``;
``__audit_link__``
    the page that shows one: ``("meetings.activity", "activity_id")``; or, for a page
    whose address needs more than the record's id, an ``audit_link`` property giving the
    endpoint and all its values;
``audit_name``
    (a property) its name in a sentence, "Kenya's follow-up of KP-2022/R3"; without it
    the record's ``title``, ``name``, ``display_name`` or ``email``;
``audit_phrase``
    (a property, instead of noun and name) the whole phrase: "Kenya's follow-up of
    KP-2022/R3";
``__audit_eager__``
    the relationships ``audit_name`` or ``audit_phrase`` read, loaded with the records.

The records a page of history names are loaded together (``names``). A record deleted
since is named as its entries last described it, without a link. Stored enum values read
by their labels, and ids of other records (``country_id``) by those records' names.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Enum as EnumType

from kpplan.audit.models import AuditEntry
from kpplan.audit.names import (
    HIDDEN_FIELDS,
    Links,
    changed_fields,
    last_known_names,
    link_to,
    models_by_table,
    name_of,
    records_named,
    referenced_table,
)
from kpplan.core.dates import day, day_range

#: Fields whose name alone would read oddly, in words.
FIELD_WORDS = {
    "start_date": "dates",
    "end_date": "dates",
    "date_precision": "dates",
    "state_roles": "states",
    "country_id": "country",
    "status_reason": "reason",
    "next_review_date": "next review",
    "is_active": "active",
    "enabled": "on or off",
}

#: What an action other than created, updated or deleted did, as a verb before the record.
VERBS = {
    "validated": "validated the implementation reported in",
    "returned": "returned an update of",
    "withdrawn": "withdrew",
    "sent": "sent",
    "declined": "declined",
    "nominated": "nominated",
    "confirmed": "confirmed",
    "waitlisted": "put on the waiting list",
    "refused": "refused",
    "accepted": "accepted",
    "attended": "recorded as present",
    "absent": "recorded as absent",
    "attendance": "took the attendance for",
    "erased": "erased the delegates' personal details of",
    "reactivated": "reactivated",
    "deactivated": "deactivated",
    "password_reset": "reset the password of",
    "password_changed": "changed the password of",
    "calendar_link_reset": "made a new calendar link for",
    "linked": "linked an activity to",
    "unlinked": "took an activity off",
    "dropped": "dropped",
    "reinstated": "reinstated",
}


@dataclass
class Part:
    """A piece of a sentence: words, linked when ``url`` is set."""

    text: str
    url: str | None = None
    #: A person's name, linked to their account only for those who manage accounts.
    person: bool = False


@dataclass
class Change:
    """One field changed, in words: "status", "In progress" → "Implemented"."""

    field: str
    before: str
    after: str


@dataclass
class HistoryLine:
    """One audit entry as a sentence, with the changed fields in words."""

    entry: AuditEntry
    parts: list[Part]
    changes: list[Change] = field(default_factory=list)

    @property
    def at(self):
        return self.entry.at

    @property
    def text(self) -> str:
        """The sentence as plain text (for tests and mails)."""
        return "".join(part.text for part in self.parts)


def noun_of(model: type | None, object_type: str) -> str:
    """The record's kind in a sentence: "activity", "follow-up"."""
    if model is not None and getattr(model, "__audit_noun__", None):
        return model.__audit_noun__
    label = getattr(model, "__audit_label__", None) or object_type.replace("_", " ")
    label = label.lower()
    return label[:-1] if label.endswith("s") else label


def _enum_of(model: type | None, field_name: str) -> type[enum.Enum] | None:
    if model is None or field_name not in model.__table__.c:
        return None
    column_type = model.__table__.c[field_name].type
    return column_type.enum_class if isinstance(column_type, EnumType) else None


def _words(value: Any, enum_class: type[enum.Enum] | None, named: str | None) -> str:
    if named is not None:
        return named
    if value is None or value == "" or value == []:
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if enum_class is not None:
        try:
            member = enum_class(value)
        except ValueError:
            return str(value)
        label = getattr(member, "label", None)
        return label or str(value).replace("_", " ").capitalize()
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return day(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(_role_words(item) for item in value)
    return str(value)


def _role_words(item: Any) -> str:
    """``"host:Kenya"`` (how activities keep their states' roles) as "Kenya (host)"."""
    if isinstance(item, str) and ":" in item:
        role, name = item.split(":", 1)
        return f"{name} ({role.replace('_', '-')})"
    return str(item)


def _field_words(name: str) -> str:
    if name in FIELD_WORDS:
        return FIELD_WORDS[name]
    return name.removesuffix("_id").replace("_", " ")


def _listed(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def describe(entries: Iterable[AuditEntry], known: Iterable[Any] = ()) -> list[HistoryLine]:
    """The entries as sentences, naming their records and the records their changes name.

    Loads the records named in one query per kind of record (and per relationship that
    their names read), whatever the number of entries; ``known``: records loaded already
    (the one whose history a page shows), not read again.
    """
    entries = list(entries)
    models = models_by_table()
    records = records_named(entries, models, known)
    last_names = last_known_names(entries, records)
    links = Links()
    return [_line(entry, models, records, last_names, links) for entry in entries]


def changes_in_words(entries: Iterable[AuditEntry]) -> list[tuple[AuditEntry, list[Change]]]:
    """Each entry with the fields it changed, in words (for a stale edit's refusal)."""
    entries = list(entries)
    models = models_by_table()
    records = records_named(entries, models)
    return [(e, _changes(e, models.get(e.object_type), records)) for e in entries]


def _line(entry, models, records, last_names, links: Links) -> HistoryLine:
    model = models.get(entry.object_type)
    key = (entry.object_type, entry.object_id)
    record = records.get(key)
    noun = noun_of(model, entry.object_type)
    if record is not None:
        url = link_to(model, record, links)
        phrase = getattr(record, "audit_phrase", None)
        if phrase:
            the_record = [Part(phrase, url)]
        else:
            the_record = [Part(f"the {noun} "), Part(name_of(record), url)]
    else:
        # Deleted since (or never found): its last known name, without a link.
        name = last_names.get(key)
        the_record = [Part(f"the {noun} ‘{name}’" if name else f"the {noun} “{entry.summary}”")]
        if entry.action != "deleted":
            the_record.append(Part(" (deleted since)"))

    parts = _actor(entry, links)
    changes = _changes(entry, model, records)
    status = next((c for c in changes if c.field == "status"), None)
    others = _listed(list(dict.fromkeys(c.field for c in changes if c.field != "status")))
    action = entry.action
    if action in ("created", "create"):
        values = [
            _words(value, _enum_of(model, name), None)
            for name, value in (entry.after or {}).items()
            if name not in HIDDEN_FIELDS
        ]
        if record is not None and getattr(record, "audit_phrase", None) and values:
            # A setting saved for the first time: "set the Process's timezone to …".
            parts += [Part(" set "), *the_record, Part(f" to {_listed(values)}")]
        else:
            parts += [Part(" created "), *the_record]
    elif action == "deleted":
        parts += [Part(" deleted "), *the_record]
    elif status is not None and (action == "updated" or action.startswith("status:")):
        parts += [Part(" changed the status of "), *the_record]
        parts.append(Part(f" from {status.before} to {status.after}"))
        if others:
            parts.append(Part(f", and its {others}"))
    elif action.startswith("status:"):
        # A move that left the status as it was (postponed again, to new dates).
        to = _words(action.split(":", 1)[1], _enum_of(model, "status"), None)
        parts += [Part(" marked "), *the_record, Part(f" {to.lower()} again")]
        if others:
            parts.append(Part(f", changing its {others}"))
    elif action in ("updated", "update"):
        parts += [Part(f" changed the {others} of " if others else " changed "), *the_record]
    elif action in VERBS:
        parts += [Part(f" {VERBS[action]} "), *the_record]
    else:
        parts += [Part(f" recorded “{action.replace('_', ' ')}” for "), *the_record]
    return HistoryLine(entry=entry, parts=parts, changes=changes if entry.before else [])


def _actor(entry: AuditEntry, links: Links) -> list[Part]:
    actor = entry.actor
    if actor is None:
        return [Part("kpplan (command line or scheduler)")]
    role = getattr(actor.role, "label", str(actor.role)).lower()
    url = links.to("directory.user", "user_id", actor.id)
    return [Part(actor.name, url, person=True), Part(f" ({role})")]


#: Fields read together as one row: an activity's dates and their precision.
DATE_FIELDS = ("start_date", "end_date", "date_precision")


def _dates(snapshot: dict[str, Any] | None) -> str:
    snapshot = snapshot or {}
    try:
        start = date.fromisoformat(snapshot["start_date"])
        end = date.fromisoformat(snapshot.get("end_date") or snapshot["start_date"])
    except (KeyError, TypeError, ValueError):
        return "—"
    return day_range(start, end, snapshot.get("date_precision"))


def _changes(entry: AuditEntry, model, records) -> list[Change]:
    changes = []
    dates_done = False
    for name, before, after in changed_fields(entry):
        if name in DATE_FIELDS and "start_date" in (entry.before or {}):
            if not dates_done:
                changes.append(Change("dates", _dates(entry.before), _dates(entry.after)))
                dates_done = True
            continue
        enum_class = _enum_of(model, name)
        table = referenced_table(model, name)

        def named(value: Any, table: str | None = table) -> str | None:
            if table is None or not isinstance(value, int):
                return None
            record = records.get((table, value))
            return name_of(record) if record is not None else f"a deleted record (no. {value})"

        changes.append(
            Change(
                field=_field_words(name),
                before=_words(before, enum_class, named(before)),
                after=_words(after, enum_class, named(after)),
            )
        )
    return changes
