"""The thematic frames recommendations are tagged with (DOMAIN.md), defined in one place.

They are the texts of the Process, not data that changes: the Rome Declaration's ten
priority areas, the five domains of the Joint Valletta Action Plan and the 4Ps.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    code: str
    frame: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


ROME = "Rome Declaration"
JVAP = "Joint Valletta Action Plan"
FOUR_PS = "The 4Ps"

THEMES: tuple[Theme, ...] = (
    Theme("RD1", ROME, "Cooperation between countries of origin, transit and destination"),
    Theme("RD2", ROME, "National capacity building in migration management"),
    Theme("RD3", ROME, "Prevention of trafficking and smuggling"),
    Theme("RD4", ROME, "National strategies and horizontal coordination"),
    Theme("RD5", ROME, "Identification and prosecution of criminal networks"),
    Theme("RD6", ROME, "Criminal law frameworks and the Palermo Protocols"),
    Theme("RD7", ROME, "A victim-centred approach"),
    Theme("RD8", ROME, "Sustainable development to address root causes"),
    Theme("RD9", ROME, "A regional framework for return and reintegration"),
    Theme("RD10", ROME, "Reception centres and access to asylum"),
    Theme("JVAP1", JVAP, "Development benefits of migration and root causes"),
    Theme("JVAP2", JVAP, "Legal migration and mobility"),
    Theme("JVAP3", JVAP, "Protection and asylum"),
    Theme("JVAP4", JVAP, "Irregular migration, migrant smuggling and trafficking"),
    Theme("JVAP5", JVAP, "Return, readmission and reintegration"),
    Theme("4P-PREVENTION", FOUR_PS, "Prevention"),
    Theme("4P-PROTECTION", FOUR_PS, "Protection"),
    Theme("4P-PROSECUTION", FOUR_PS, "Prosecution"),
    Theme("4P-PARTNERSHIP", FOUR_PS, "Partnership"),
)
BY_CODE: dict[str, Theme] = {t.code: t for t in THEMES}
FRAMES = (ROME, JVAP, FOUR_PS)


def theme(code: str) -> Theme | None:
    return BY_CODE.get(code.strip().upper())
