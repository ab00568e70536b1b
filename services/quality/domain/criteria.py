"""The published review criteria, versioned.

Each criterion turns one principle of Annex II of the Council Recommendation on a European
approach to micro-credentials (2022/C 243/02) into a question a reviewer can answer about a
catalogue entry. A review records the version it used, so a published summary says exactly
what was checked; a changed criterion is a new version, never an edit of an old one (old
reviews must keep meaning what they meant when they were decided).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Text:
    sv: str
    en: str


@dataclass(frozen=True)
class Criterion:
    code: str
    principle: str  # the Annex II principle, as the Recommendation names it
    title: Text
    guidance: Text


@dataclass(frozen=True)
class CriteriaSet:
    version: str
    published_on: date
    source: str
    criteria: tuple[Criterion, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.criteria)

    def get(self, code: str) -> Criterion | None:
        return next((c for c in self.criteria if c.code == code), None)


ANNEX_II = (
    "Council Recommendation of 16 June 2022 on a European approach to micro-credentials for lifelong learning "
    "and employability (2022/C 243/02), Annex II"
)

V2026_1 = CriteriaSet(
    version="2026.1",
    published_on=date(2026, 11, 1),
    source=ANNEX_II,
    criteria=(
        Criterion(
            "quality", "Quality",
            Text("Kvalitetssäkring", "Quality assurance"),
            Text(
                "Anordnaren har en dokumenterad intern kvalitetssäkring som omfattar mikromeriten och anger vilken "
                "extern kvalitetssäkring den omfattas av. Processerna är ändamålsenliga, tillgängliga och tar hänsyn "
                "till deltagarnas och avnämarnas behov.",
                "The provider has documented internal quality assurance covering the micro-credential and states "
                "which external quality assurance applies to it. The processes are fit for purpose, accessible and "
                "take the needs of learners and stakeholders into account.",
            ),
        ),
        Criterion(
            "transparency", "Transparency",
            Text("Transparens", "Transparency"),
            Text(
                "Beskrivningen är mätbar, jämförbar och begriplig: läranderesultat, studietid (hp eller timmar), "
                "innehåll, nivå (EQF/SeQF), bedömningsform, deltagandeform och kvalitetssäkring finns och stämmer "
                "med varandra.",
                "The description is measurable, comparable and understandable: learning outcomes, workload (ECTS or "
                "hours), content, level (EQF/SeQF), type of assessment, form of participation and quality assurance "
                "are present and consistent with each other.",
            ),
        ),
        Criterion(
            "relevance", "Relevance",
            Text("Relevans", "Relevance"),
            Text(
                "Mikromeriten är ett avgränsat, riktat lärande som svarar mot ett identifierat behov i en bransch "
                "eller hos en målgrupp, helst utformat tillsammans med arbetsgivare, arbetsmarknadens parter eller "
                "andra berörda, och hålls aktuell.",
                "The micro-credential is a distinct, targeted learning achievement that meets an identified need of "
                "a branch or target group, preferably designed with employers, social partners or other "
                "stakeholders, and is kept up to date.",
            ),
        ),
        Criterion(
            "valid-assessment", "Valid assessment",
            Text("Valid bedömning", "Valid assessment"),
            Text(
                "Läranderesultaten bedöms mot transparenta kriterier med en bedömningsform som faktiskt kan visa "
                "dem; identitetskontroll och handledning vid bedömning är beskrivna där det behövs.",
                "The learning outcomes are assessed against transparent standards, with a form of assessment that "
                "can actually show them; identity verification and supervision during assessment are described "
                "where needed.",
            ),
        ),
        Criterion(
            "learning-pathways", "Learning pathways",
            Text("Lärandevägar", "Learning pathways"),
            Text(
                "Det framgår hur mikromeriten kan stå för sig själv eller staplas, valideras och tillgodoräknas mot "
                "andra mikromeriter, utbildningar eller kvalifikationer.",
                "It is clear how the micro-credential stands alone or can be stacked, validated and credited "
                "towards other micro-credentials, programmes or qualifications.",
            ),
        ),
        Criterion(
            "recognition", "Recognition",
            Text("Erkännande", "Recognition"),
            Text(
                "Mikromeriten har ett tydligt signalvärde: arbetsgivare och utbildningsanordnare kan av beskrivningen "
                "förstå vad innehavaren kan, så att den kan erkännas för arbete eller vidare studier enligt "
                "gängse rutiner.",
                "The micro-credential has a clear signalling value: employers and education providers can tell from "
                "the description what the holder can do, so that it can be recognised for work or further studies "
                "following standard procedures.",
            ),
        ),
        Criterion(
            "portability", "Portable",
            Text("Portabilitet", "Portability"),
            Text(
                "Deltagaren äger sitt bevis och kan lagra och dela det digitalt (t.ex. i en Europass-plånbok); "
                "beskrivningen kan uttryckas i öppna standarder (ELM, Open Badges) utan förlust.",
                "The learner owns the credential and can store and share it digitally (e.g. in a Europass wallet); "
                "the description can be expressed in open standards (ELM, Open Badges) without loss.",
            ),
        ),
        Criterion(
            "learner-centred", "Learner-centred",
            Text("Deltagarfokus", "Learner-centred"),
            Text(
                "Upplägg, förkunskapskrav, tempo, språk och pris passar den avsedda målgruppen, och deltagarnas "
                "återkoppling tas tillvara i kvalitetsarbetet.",
                "Design, prerequisites, pacing, language and price suit the intended target group, and learners' "
                "feedback is used in quality assurance.",
            ),
        ),
        Criterion(
            "authentic", "Authentic",
            Text("Äkthet", "Authenticity"),
            Text(
                "Beviset kan innehålla det som behövs för att kontrollera innehavarens identitet, utfärdarens "
                "juridiska identitet och datum och plats för utfärdandet; utfärdande organ är angivna.",
                "The credential can carry what is needed to check the holder's identity, the issuer's legal "
                "identity and the date and place of issuing; the awarding bodies are named.",
            ),
        ),
        Criterion(
            "information-and-guidance", "Information and guidance",
            Text("Information och vägledning", "Information and guidance"),
            Text(
                "Informationen räcker för att studie- och yrkesvägledare och deltagare ska kunna välja: vem den "
                "passar, vad den leder till, var mer information finns. Den når breda grupper på ett inkluderande "
                "sätt.",
                "The information is enough for guidance counsellors and learners to choose: whom it suits, what it "
                "leads to, where to find more. It reaches broad groups of learners in an inclusive way.",
            ),
        ),
    ),
)

#: Every criteria version ever published, by version. Only add; never change a published one.
PUBLISHED: dict[str, CriteriaSet] = {V2026_1.version: V2026_1}
CURRENT_VERSION = V2026_1.version


def criteria_set(version: str) -> CriteriaSet | None:
    return PUBLISHED.get(version)
