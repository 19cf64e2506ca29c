"""Names in a sentence: every state and organisation kpplan seeds reads right in a
possessive and in running text, at the start of a sentence and inside it."""

from __future__ import annotations

import pytest

from kpplan.core.names import in_sentence, possessive
from kpplan.directory.models import organisation_display_name
from kpplan.directory.reference import MEMBER_STATES, ORGANISATIONS, OTHER_COUNTRIES

SEEDED_STATES = [name for name, _, _ in MEMBER_STATES + OTHER_COUNTRIES]
# The seeded states that take "the" in running English (the EU's Interinstitutional Style
# Guide): every other one reads as it is stored.
WITH_THE = {
    "The Netherlands": "the Netherlands",
    "Czech Republic": "the Czech Republic",
    "Central African Republic": "the Central African Republic",
}


def test_every_seeded_state_reads_right_inside_a_sentence_and_at_its_start():
    assert set(WITH_THE) <= set(SEEDED_STATES)
    for name in SEEDED_STATES:
        inside = WITH_THE.get(name, name)
        assert in_sentence(name) == inside
        assert in_sentence(name, start=True) == inside[0].upper() + inside[1:]
        mark = "'" if name == "The Netherlands" else "'s"
        assert possessive(name) == inside + mark
        assert possessive(name, start=True) == inside[0].upper() + inside[1:] + mark


@pytest.mark.parametrize(
    ("name", "inside", "opening"),
    [
        ("The Netherlands", "the Netherlands'", "The Netherlands'"),
        ("Czech Republic", "the Czech Republic's", "The Czech Republic's"),
        ("Central African Republic", "the Central African Republic's", None),
        ("Kenya", "Kenya's", "Kenya's"),
        ("Sudan", "Sudan's", None),
        ("South Sudan", "South Sudan's", None),
        # A singular name ending in s takes 's; a plural one an apostrophe alone.
        ("Cyprus", "Cyprus's", "Cyprus's"),
        ("Comoros", "the Comoros'", "The Comoros'"),
        ("United States", "the United States'", None),
        # Names the Process may add, as the style guide writes them.
        ("United Kingdom", "the United Kingdom's", "The United Kingdom's"),
        ("Gambia", "the Gambia's", "The Gambia's"),
        ("The Gambia", "the Gambia's", "The Gambia's"),
        ("Democratic Republic of the Congo", "the Democratic Republic of the Congo's", None),
        # The secretariat, the addressee of its own follow-ups.
        ("Secretariat", "the secretariat's", "The secretariat's"),
        # An acronym is not a plural.
        ("UNHCR", "UNHCR's", "UNHCR's"),
        ("EEAS", "EEAS's", None),
        ("DG HOME", "DG HOME's", None),
        ("Frontex", "Frontex's", None),
        # An organisation without its acronym.
        ("European Commission", "the European Commission's", "The European Commission's"),
        ("Mixed Migration Centre", "the Mixed Migration Centre's", None),
    ],
)
def test_a_possessive_reads_as_in_running_english(name, inside, opening):
    assert possessive(name) == inside
    if opening is not None:
        assert possessive(name, start=True) == opening


def test_an_organisation_as_lists_name_it_gives_its_acronym_possessive():
    for name, acronym, _ in ORGANISATIONS:
        shown = organisation_display_name(name, acronym)
        assert possessive(shown) == f"{acronym}'s"
    assert possessive("International Organization for Migration (IOM)") == "IOM's"
    assert in_sentence("International Organization for Migration (IOM)") == (
        "the International Organization for Migration (IOM)"
    )
    # A parenthesis of words is part of the name, not an acronym.
    assert possessive("Bolivia (Plurinational State of)").startswith("Bolivia (")
