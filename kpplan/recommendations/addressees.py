"""Whom a follow-up is addressed to, read as rows: the joins from a follow-up to its
recommendation and its addressee (a state, an organisation, or else the secretariat), and
the addressee's name from the columns they bring."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from kpplan.directory.models import Organisation, State, organisation_display_name
from kpplan.recommendations.follow_up_models import FollowUp, addressee_name
from kpplan.recommendations.models import Recommendation


def addressee_joins(query: Select) -> Select:
    """``query``, which reads ``follow_ups``, joined to each follow-up's recommendation and
    (outer) to its state and its organisation: what a list of follow-ups by recommendation
    and addressee reads."""
    return (
        query.join(Recommendation, Recommendation.id == FollowUp.recommendation_id)
        .outerjoin(State, State.id == FollowUp.state_id)
        .outerjoin(Organisation, Organisation.id == FollowUp.organisation_id)
    )


def addressee_columns() -> tuple:
    """The columns ``addressee_of`` reads, for a select joined by ``addressee_joins``."""
    return (
        State.name.label("state_name"),
        Organisation.name.label("organisation_name"),
        Organisation.acronym,
    )


def addressee_of(row: Any) -> str:
    """The addressee's name from a row with ``addressee_columns``: the state, else the
    organisation (its display name), else the secretariat."""
    organisation = row.organisation_name
    if organisation is not None:
        organisation = organisation_display_name(organisation, row.acronym)
    return addressee_name(row.state_name, organisation)
