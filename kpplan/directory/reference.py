"""Reference data drawn from the Khartoum Process's own texts (see shared DOMAIN.md).

Loading is idempotent: a record that exists (by name) is left as the secretariat
edited it, so that running the loader again adds nothing twice and undoes no edit.
"""

from __future__ import annotations

from sqlalchemy import select

from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, OrganisationKind, Region, State

AFRICA, EUROPE = Region.AFRICA, Region.EUROPE

# The 40 member states of the Khartoum Process, with their ISO 3166-1 alpha-2 codes.
MEMBER_STATES: list[tuple[str, str, Region]] = [
    ("Austria", "AT", EUROPE),
    ("Belgium", "BE", EUROPE),
    ("Bulgaria", "BG", EUROPE),
    ("Croatia", "HR", EUROPE),
    ("Cyprus", "CY", EUROPE),
    ("Czech Republic", "CZ", EUROPE),
    ("Denmark", "DK", EUROPE),
    ("Djibouti", "DJ", AFRICA),
    ("Egypt", "EG", AFRICA),
    ("Eritrea", "ER", AFRICA),
    ("Estonia", "EE", EUROPE),
    ("Ethiopia", "ET", AFRICA),
    ("Finland", "FI", EUROPE),
    ("France", "FR", EUROPE),
    ("Germany", "DE", EUROPE),
    ("Greece", "GR", EUROPE),
    ("Hungary", "HU", EUROPE),
    ("Ireland", "IE", EUROPE),
    ("Italy", "IT", EUROPE),
    ("Kenya", "KE", AFRICA),
    ("Latvia", "LV", EUROPE),
    ("Libya", "LY", AFRICA),
    ("Lithuania", "LT", EUROPE),
    ("Luxembourg", "LU", EUROPE),
    ("Malta", "MT", EUROPE),
    ("The Netherlands", "NL", EUROPE),
    ("Norway", "NO", EUROPE),
    ("Poland", "PL", EUROPE),
    ("Portugal", "PT", EUROPE),
    ("Romania", "RO", EUROPE),
    ("Slovakia", "SK", EUROPE),
    ("Slovenia", "SI", EUROPE),
    ("Somalia", "SO", AFRICA),
    ("South Sudan", "SS", AFRICA),
    ("Spain", "ES", EUROPE),
    ("Sudan", "SD", AFRICA),
    ("Sweden", "SE", EUROPE),
    ("Switzerland", "CH", EUROPE),
    ("Tunisia", "TN", AFRICA),
    ("Uganda", "UG", AFRICA),
]

# Countries that are not members but appear in the Process's activities.
OTHER_COUNTRIES: list[tuple[str, str, Region]] = [
    ("Central African Republic", "CF", AFRICA),
]

INTL, EU, REG = (
    OrganisationKind.INTERNATIONAL,
    OrganisationKind.EU_INSTITUTION,
    OrganisationKind.REGIONAL,
)

# Organisations named in the Process's texts: (name, acronym, kind).
ORGANISATIONS: list[tuple[str, str | None, OrganisationKind]] = [
    ("International Centre for Migration Policy Development", "ICMPD", INTL),
    ("International Organization for Migration", "IOM", INTL),
    ("United Nations High Commissioner for Refugees", "UNHCR", INTL),
    ("United Nations Office on Drugs and Crime", "UNODC", INTL),
    ("United Nations Development Programme", "UNDP", INTL),
    ("International Labour Organization", "ILO", INTL),
    ("International Criminal Police Organization", "INTERPOL", INTL),
    ("Intergovernmental Authority on Development", "IGAD", REG),
    ("African Union Commission", "AUC", REG),
    ("East African Community", "EAC", REG),
    ("Eastern Africa Police Chiefs Cooperation Organization", "EAPCCO", REG),
    ("Regional Operational Centre in Khartoum", "ROCK", REG),
    ("Mixed Migration Centre", "MMC", INTL),
    ("European Commission", "EC", EU),
    ("European Commission, Directorate-General for Migration and Home Affairs", "DG HOME", EU),
    (
        "European Commission, Directorate-General for International Cooperation and Development",
        "DG DEVCO",
        EU,
    ),
    (
        "European Commission, Directorate-General for Neighbourhood and Enlargement Negotiations",
        "DG NEAR",
        EU,
    ),
    ("European External Action Service", "EEAS", EU),
    ("European Border and Coast Guard Agency", "Frontex", EU),
    ("European Union Agency for Law Enforcement Cooperation", "EUROPOL", EU),
    ("European Union Agency for Criminal Justice Cooperation", "EUROJUST", EU),
]


def load_reference_data() -> dict[str, int]:
    """Add the member states, other known countries and organisations that are missing.

    Returns how many of each were added. Flushes; the caller commits.
    """
    added = {"states": 0, "organisations": 0}
    known_states = set(db.session.scalars(select(State.name)))
    for rows, member in ((MEMBER_STATES, True), (OTHER_COUNTRIES, False)):
        for name, iso, region in rows:
            if name not in known_states:
                db.session.add(State(name=name, iso_code=iso, region=region, is_member=member))
                added["states"] += 1
    known_orgs = set(db.session.scalars(select(Organisation.name)))
    for name, acronym, kind in ORGANISATIONS:
        if name not in known_orgs:
            db.session.add(Organisation(name=name, acronym=acronym, kind=kind))
            added["organisations"] += 1
    db.session.flush()
    return added
