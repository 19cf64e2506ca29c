"""How kpplan writes a state's, an organisation's or a delegation's name inside a sentence.

The directory keeps names as lists show them: "The Netherlands", "Czech Republic", "Kenya",
"IOM", "International Organization for Migration (IOM)", and a follow-up of the secretariat
is addressed to "Secretariat". A sentence needs more: "the Netherlands' follow-up",
"the Czech Republic's focal points", "Kenya's", "IOM's", "the secretariat's", and "The"
with a capital where the name opens a sentence or a heading.

The article follows the usage of the EU's Interinstitutional Style Guide (its list of
countries) for short names in English running text, read from the name itself so that the
name stays the one thing the secretariat keeps (no second field to forget on a rename):

- a name written with "The" keeps it ("The Netherlands"; "The Gambia" if written so);
- a plural name takes it: the Bahamas, the Comoros, the Netherlands, the Philippines, and
  any name ending in Islands, Emirates, States or Nations;
- a name made with a common noun takes it: the Czech Republic, the Central African
  Republic, the Democratic Republic of the Congo, the United Kingdom, the Russian
  Federation; so do organisations named by what they are (the European Commission, the
  International Organization for Migration, the Mixed Migration Centre);
- the Gambia, a single short name English writes with the article (the state's own usage
  and the UN's);
- nothing else: Kenya, Sudan and South Sudan (the Process's own texts, as EU texts, where
  UN texts write "the Sudan"), Niger, Congo, and acronyms (IOM, UNHCR, DG HOME) and names
  such as Frontex.

The possessive adds an apostrophe alone to a plural name ("the Netherlands'", "the United
States'", "the High Commissioner for Refugees'") and 's to everything else: a singular name
ending in s ("Cyprus's", as the MHRA and Chicago style guides write it) and an acronym,
which is not a plural ("UNHCR's", "EEAS's"), included.
"""

from __future__ import annotations

import re

# Plural names: they take "the", and their possessive an apostrophe alone.
_PLURALS = frozenset(
    {"Bahamas", "Comoros", "Emirates", "Islands", "Nations", "Netherlands", "Philippines", "States"}
)
# Common nouns that make a name take "the" wherever they stand in it (and "Gambia").
_WITH_ARTICLE = frozenset(
    {
        "Gambia",
        "Republic",
        "Kingdom",
        "Federation",
        "Union",
        "Commonwealth",
        "Confederation",
        "Agency",
        "Authority",
        "Centre",
        "Center",
        "Commission",
        "Committee",
        "Community",
        "Conference",
        "Council",
        "Court",
        "Directorate",
        "Directorate-General",
        "Fund",
        "Initiative",
        "Institute",
        "Network",
        "Office",
        "Organisation",
        "Organization",
        "Parliament",
        "Process",
        "Programme",
        "Secretariat",
        "Service",
    }
)
# "International Organization for Migration (IOM)": an organisation as lists name it, its
# acronym or short name last (``organisation_display_name``); a parenthesis of words
# ("Bolivia (Plurinational State of)") is not one.
_DISPLAY_NAME = re.compile(r"(?P<name>.+?) \((?P<short>[^()\s]+(?: [^()\sa-z][^()\s]*)*)\)")


def _is_acronym(name: str) -> bool:
    return all(word.isupper() for word in name.split())


def _short(name: str) -> str:
    """The name a possessive is made of: an organisation's acronym rather than its name."""
    found = _DISPLAY_NAME.fullmatch(name)
    return found["short"] if found else name


def _is_plural(name: str) -> bool:
    """A plural name, whose possessive takes an apostrophe alone: one of the plural country
    names, or a name of several words ending in a plural noun ("the United Nations High
    Commissioner for Refugees"), not in -us, -is or -ss ("the Republic of Cyprus")."""
    if _is_acronym(name):
        return False
    words = name.split()
    if words[0] in ("The", "the"):
        words = words[1:]
    last = words[-1]
    if last in _PLURALS:
        return True
    return len(words) > 1 and last.endswith("s") and not last.endswith(("us", "is", "ss"))


def in_sentence(name: str, *, start: bool = False) -> str:
    """``name`` as it reads in running English: "the Netherlands", "the Czech Republic",
    "Kenya", "IOM", "the secretariat"; with ``start``, "The Netherlands" (a sentence or a
    heading opens with it)."""
    name = name.strip()
    if not name:
        return name
    words = name.split()
    if words[0] in ("The", "the"):
        words = words[1:]
    elif _is_acronym(name) or not (_PLURALS | _WITH_ARTICLE).intersection(words):
        return name
    if len(words) == 1 and words[0] in _WITH_ARTICLE - {"Gambia"}:
        # A common noun alone ("Secretariat", the addressee of the secretariat's own follow-up).
        words = [words[0].lower()]
    return ("The " if start else "the ") + " ".join(words)


def possessive(name: str, *, start: bool = False) -> str:
    """``name``'s possessive as it reads in running English: "the Netherlands'", "the Czech
    Republic's", "Kenya's", "Cyprus's", "IOM's" (also for "International Organization for
    Migration (IOM)"), "the secretariat's"; with ``start``, "The Netherlands'"."""
    name = in_sentence(_short(name), start=start)
    if not name:
        return name
    return f"{name}'" if _is_plural(name) else f"{name}'s"
