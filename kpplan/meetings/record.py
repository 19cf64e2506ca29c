"""The Process's own record of past activities (shared DOMAIN.md), as the texts give them,
and a few illustrative upcoming activities: data only, loaded by ``kpplan.meetings.demo``.

Where the texts give only a month or a year, a date is chosen and the record says so;
where two texts disagree, one value is kept and the other noted on the record. Where the
texts name the city of a member state but not the host, that state is recorded as host and
the note says it was inferred. The organisations the texts name at an activity are listed
with it. The upcoming activities are not in the texts: their titles and notes say
"illustrative", and their dates are counted from the day the demo is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from kpplan.core.dates import DatePrecision
from kpplan.meetings.kinds import ActivityKind as K
from kpplan.meetings.models import Format, OrganisationRole, Relation, StateRole, Status

FOUR_PS = "Trafficking in Human Beings: The 4Ps Revisited"
EGYPT_2019 = (
    "Thematic Meeting on Legal Frameworks and Policy Development: "
    "Optimising the Benefits of Organised Labour Migration"
)
MOMBASA = (
    "Thematic Meeting on Legal Pathways: Talent and Skills Mobility Partnerships "
    "to Match Labour Market Needs"
)
H, CH, C, CC = StateRole.HOST, StateRole.CO_HOST, StateRole.CHAIR, StateRole.CO_CHAIR
ONLINE = Format.VIRTUAL
PARTNER, SPEAKER = OrganisationRole.PARTNER, OrganisationRole.SPEAKER
IMPLEMENTING = OrganisationRole.IMPLEMENTING
# Meetings the record keeps beside the Process's own, which its statistics leave apart.
JVAP = "Joint Valletta Action Plan (JVAP)"
AU = "African Union"
INFERRED = "Host inferred from the city: the texts name {city} but not who hosted."


@dataclass
class Past:
    kind: K
    title: str
    start: date
    end: date | None = None
    city: str | None = None
    country: str | None = None
    roles: list[tuple[str, StateRole]] = field(default_factory=list)
    format: Format = Format.IN_PERSON
    participants: int | None = None
    countries: int | None = None
    organisations: int | None = None
    outcome: str | None = None
    note: str | None = None
    series: tuple[str, int, int] | None = None
    # The organisations the texts name at it (acronym, role).
    named: list[tuple[str, OrganisationRole]] = field(default_factory=list)
    # Set for a meeting of another process (e.g. the JVAP), kept apart in the statistics.
    other_process: str | None = None
    # Titles an earlier demo gave it, so that seeding again does not add it twice.
    former_titles: tuple[str, ...] = ()
    # How much of its date the texts give: the day, only the month, or only the year.
    precision: DatePrecision = DatePrecision.DAY


RECORD: list[Past] = [
    Past(
        K.MINISTERIAL,
        "AU Regional Ministerial Conference on Human Trafficking and Smuggling of "
        "Migrants in the Horn of Africa",
        date(2014, 10, 13),
        date(2014, 10, 16),
        "Khartoum",
        "Sudan",
        note="Convened by the African Union; it prepared the launch of the Process.",
        other_process=AU,
    ),
    Past(
        K.MINISTERIAL,
        "Ministerial Conference launching the Khartoum Process",
        date(2014, 11, 28),
        city="Rome",
        country="Italy",
        roles=[("Italy", H)],
        note=INFERRED.format(city="Rome"),
        outcome="The Rome Declaration launched the EU–Horn of Africa Migration Route Initiative "
        "(Khartoum Process).",
    ),
    Past(
        K.THEMATIC_MEETING,
        "Thematic Meeting on Return, Readmission and Reintegration",
        date(2016, 1, 1),
        roles=[("Ethiopia", C), ("Italy", CC)],
        precision=DatePrecision.YEAR,
        note="The texts give only the year 2016. They name Ethiopia "
        "and Italy as co-chairs; Ethiopia is recorded as chair, Italy as co-chair.",
    ),
    Past(
        K.THEMATIC_MEETING,
        "Thematic Meeting on International Protection and Asylum",
        date(2017, 1, 1),
        city="Berlin",
        country="Germany",
        roles=[("Germany", H)],
        precision=DatePrecision.YEAR,
        note="The texts give only the year 2017. " + INFERRED.format(city="Berlin"),
    ),
    Past(
        K.THEMATIC_MEETING,
        "Thematic Meeting on Awareness-Raising Campaigns",
        date(2018, 6, 19),
        date(2018, 6, 20),
        "The Hague",
        "The Netherlands",
        roles=[("The Netherlands", H)],
        named=[("MMC", SPEAKER)],
    ),
    Past(
        K.THEMATIC_MEETING,
        "Thematic Meeting on Law Enforcement and Capacity Building",
        date(2018, 7, 10),
        date(2018, 7, 11),
        country="Egypt",
        roles=[("Egypt", H), ("Egypt", C), ("Italy", CC)],
    ),
    Past(
        K.THEMATIC_MEETING,
        "Thematic Meeting on the Protection of Women and Girls on the Move from Africa to Europe",
        date(2018, 9, 18),
        date(2018, 9, 19),
        country="Sweden",
        roles=[("Sweden", H), ("Kenya", CH)],
    ),
    Past(
        K.SENIOR_OFFICIALS,
        "JVAP Senior Officials' Meeting",
        date(2018, 11, 14),
        date(2018, 11, 15),
        "Addis Ababa",
        "Ethiopia",
        participants=280,
        note="About 280 officials took part. A Senior Officials' Meeting of the Joint Valletta "
        "Action Plan, which the Khartoum and Rabat Processes share: it is kept apart from the "
        "Khartoum Process's own Senior Officials' Meetings in the statistics.",
        other_process=JVAP,
    ),
    Past(
        K.TRAINING,
        "Regional Training on Countering Trafficking in Human Beings",
        date(2018, 12, 1),
        date(2018, 12, 2),
        participants=40,
        named=[("IGAD", PARTNER), ("IOM", PARTNER), ("UNDP", PARTNER), ("UNHCR", PARTNER)],
        precision=DatePrecision.YEAR,
        note="Held under the Italian Chairmanship (2018–19) over two days with more than 40 "
        "participants; the texts give no date, so it is kept under 2018. The texts "
        "write UNCHR for UNHCR.",
    ),
    Past(
        K.SENIOR_OFFICIALS,
        "Senior Officials' Meeting: start of the Eritrean Chairmanship",
        date(2019, 3, 7),
        city="Asmara",
        country="Eritrea",
        roles=[("Eritrea", H)],
        note=INFERRED.format(city="Asmara"),
        outcome="Italy handed the Chairmanship of the Process over to Eritrea.",
    ),
    Past(
        K.THEMATIC_MEETING,
        EGYPT_2019,
        date(2019, 9, 24),
        date(2019, 9, 25),
        country="Egypt",
        roles=[("Egypt", H), ("Portugal", CC)],
    ),
    Past(
        K.STEERING_COMMITTEE,
        "Steering Committee Meeting",
        date(2020, 3, 6),
        city="The Hague",
        country="The Netherlands",
        roles=[("The Netherlands", H)],
        precision=DatePrecision.MONTH,
        note="The texts say March 2020, beside the 7th Senior Officials' Meeting of 6 March. "
        + INFERRED.format(city="The Hague"),
    ),
    Past(
        K.SENIOR_OFFICIALS,
        "7th Senior Officials' Meeting: handover from Eritrea to The Netherlands",
        date(2020, 3, 6),
        city="The Hague",
        country="The Netherlands",
        roles=[("The Netherlands", H)],
        note=INFERRED.format(city="The Hague"),
        outcome="Eritrea handed the Chairmanship over to The Netherlands.",
    ),
    Past(
        K.THEMATIC_MEETING,
        "First virtual meeting of the Process",
        date(2020, 7, 2),
        format=ONLINE,
        participants=50,
        roles=[("The Netherlands", C)],
        note="More than 50 participants. The texts do not say which kind of meeting it was; "
        "they say The Netherlands, as Chair of the Process, explored this new format.",
    ),
    Past(
        K.STEERING_COMMITTEE, "Virtual Steering Committee Meeting", date(2020, 12, 2), format=ONLINE
    ),
    Past(
        K.WEBINAR,
        "Webinar 1/4 — Trafficking in Human Beings: The 4Ps Revisited: Prevention",
        date(2021, 3, 31),
        format=ONLINE,
        series=(FOUR_PS, 1, 4),
        roles=[("The Netherlands", C)],
        named=[("ILO", SPEAKER)],
        participants=100,
        note="More than 100 attendees.",
    ),
    Past(
        K.WEBINAR,
        "Webinar 2/4 — Trafficking in Human Beings: The 4Ps Revisited: Protection",
        date(2021, 4, 28),
        format=ONLINE,
        series=(FOUR_PS, 2, 4),
        roles=[("The Netherlands", C)],
        named=[("UNHCR", SPEAKER)],
        participants=140,
        note="More than 140 attendees.",
    ),
    Past(
        K.WEBINAR,
        "Webinar 3/4 — Trafficking in Human Beings: The 4Ps Revisited: Prosecution",
        date(2021, 5, 26),
        format=ONLINE,
        series=(FOUR_PS, 3, 4),
        roles=[("The Netherlands", C)],
        named=[("UNODC", SPEAKER), ("ROCK", SPEAKER)],
        participants=100,
        note="More than 100 attendees.",
    ),
    Past(
        K.WEBINAR,
        "Webinar 4/4 — Trafficking in Human Beings: The 4Ps Revisited: Partnership",
        date(2021, 6, 30),
        format=ONLINE,
        series=(FOUR_PS, 4, 4),
        roles=[("The Netherlands", C)],
        named=[("UNHCR", SPEAKER)],
    ),
    Past(
        K.VIRTUAL_ROUNDTABLE,
        "Virtual Roundtable: Return, Reintegration and Integration",
        date(2021, 9, 21),
        format=ONLINE,
        roles=[("Switzerland", CH), ("Ethiopia", CH)],
    ),
    Past(
        K.STEERING_COMMITTEE,
        "Steering Committee Meeting, the first in person since March 2020",
        date(2021, 9, 29),
        city="Brussels",
        country="Belgium",
        roles=[("Belgium", H)],
        note="One text gives 21 September 2021; 29 September is kept. "
        + INFERRED.format(city="Brussels"),
    ),
    Past(
        K.THEMATIC_MEETING,
        "Thematic Meeting on Return, Reintegration and Integration: Finding Durable Solutions",
        date(2021, 11, 24),
        date(2021, 11, 25),
        "Geneva",
        "Switzerland",
        roles=[("Switzerland", H), ("Ethiopia", CH)],
    ),
    Past(
        K.STEERING_COMMITTEE,
        "Steering Committee Meeting",
        date(2022, 3, 22),
        city="Kampala",
        country="Uganda",
        roles=[("Uganda", H)],
        note="Held in the morning, before the 8th Senior Officials' Meeting. "
        + INFERRED.format(city="Kampala"),
    ),
    Past(
        K.SENIOR_OFFICIALS,
        "8th Senior Officials' Meeting: handover from The Netherlands to South Sudan",
        date(2022, 3, 22),
        date(2022, 3, 23),
        "Kampala",
        "Uganda",
        roles=[("Uganda", H)],
        note=INFERRED.format(city="Kampala"),
        outcome="The Netherlands handed the Chairmanship over to South Sudan; the Work Plan "
        "2022/23 was presented.",
    ),
    Past(
        K.TRAINING,
        "Regional training for border management officials on cross-border crime",
        date(2022, 5, 24),
        date(2022, 5, 26),
        "Juba",
        "South Sudan",
        roles=[("South Sudan", H)],
        participants=28,
        countries=8,
        named=[("ICMPD", IMPLEMENTING), ("EAPCCO", SPEAKER), ("Frontex", SPEAKER)],
        note="One text gives 24–25 May 2022; 24–26 May is kept.",
    ),
    Past(
        K.THEMATIC_MEETING,
        MOMBASA,
        date(2022, 7, 12),
        date(2022, 7, 13),
        "Mombasa",
        "Kenya",
        roles=[("Kenya", H), ("Germany", CH)],
        former_titles=(
            "Thematic Meeting on Legal Pathways: Talent and Skills Mobility Partnerships",
        ),
    ),
    Past(
        K.THEMATIC_WORKSHOP,
        "Thematic Workshop on Innovative Law Enforcement Tools to Tackle Irregular Migration",
        date(2022, 11, 22),
        date(2022, 11, 24),
        "Cairo",
        "Egypt",
        roles=[("Egypt", H), ("France", CH)],
        participants=60,
        countries=19,
        organisations=12,
        named=[
            (acronym, PARTNER)
            for acronym in ("EUROPOL", "EUROJUST", "ICMPD", "INTERPOL", "UNHCR", "ROCK", "UNODC")
        ],
        note="More than 60 participants.",
    ),
    Past(
        K.THEMATIC_WORKSHOP,
        "Thematic Workshop on Data on Human Mobility in the context of Climate Change",
        date(2023, 5, 3),
        date(2023, 5, 4),
        "Kampala",
        "Uganda",
        roles=[("Uganda", H)],
        participants=50,
        note="More than 50 participants.",
    ),
    Past(
        K.THEMATIC_WORKSHOP,
        "Thematic Workshop on Enhancing Transnational Law Enforcement "
        "Partnerships on Combatting Trafficking in Persons",
        date(2024, 2, 7),
        date(2024, 2, 8),
        "Nairobi",
        "Kenya",
        roles=[("Kenya", CH), ("Germany", CH)],
        named=[(acronym, PARTNER) for acronym in ("UNODC", "ROCK", "Frontex", "EAC", "ICMPD")],
        note="The texts name Kenya and Germany as co-hosts, and no host.",
    ),
]


# (source title, relation, target title), as the texts tell them.
LINKS = [
    (
        "Virtual Roundtable: Return, Reintegration and Integration",
        Relation.PREPARES,
        "Thematic Meeting on Return, Reintegration and Integration: Finding Durable Solutions",
    ),
    # "This meeting built on the successful outcomes of the TM on Legal Frameworks and
    # Policy Development [...] hosted by Egypt in 2019."
    (MOMBASA, Relation.BUILDS_ON, EGYPT_2019),
]


# Upcoming activities, not in the texts: illustrative, dated from today.
ILLUSTRATIVE_NOTE = (
    "Illustrative: added by the demo so that upcoming activities, the calendar and "
    "invitations have something to show. This activity is not in the Process's record."
)
TRAINING_TITLE = "Regional Training on the Identification of Victims of Trafficking (illustrative)"


@dataclass
class Upcoming:
    kind: K
    title: str
    days_ahead: int
    length: int
    theme: str
    city: str | None
    country: str | None
    status: Status
    roles: list[tuple[str, StateRole]] = field(default_factory=list)
    named: list[tuple[str, OrganisationRole]] = field(default_factory=list)
    format: Format = Format.IN_PERSON


UPCOMING: list[Upcoming] = [
    Upcoming(
        K.TRAINING,
        TRAINING_TITLE,
        45,
        2,
        "Identifying and referring victims of trafficking at borders",
        "Nairobi",
        "Kenya",
        Status.PLANNED,
        roles=[("Kenya", H)],
        named=[("IOM", PARTNER), ("UNODC", PARTNER)],
    ),
    Upcoming(
        K.WEBINAR,
        "Webinar on Online Recruitment in Trafficking in Human Beings (illustrative)",
        75,
        1,
        "How traffickers recruit online, and how law enforcement and platforms answer",
        None,
        None,
        Status.PLANNED,
        roles=[("Germany", C)],
        named=[("UNODC", SPEAKER)],
        format=ONLINE,
    ),
    Upcoming(
        K.THEMATIC_MEETING,
        "Thematic Meeting on Financial Investigations against Smuggling Networks (illustrative)",
        130,
        2,
        "Following the money of smuggling and trafficking networks across borders",
        "Berlin",
        "Germany",
        Status.CONFIRMED,
        roles=[("Germany", H), ("Ethiopia", CH)],
        named=[("ICMPD", IMPLEMENTING), ("EUROPOL", SPEAKER)],
    ),
]
