"""Demo data for Skåne: providers of every kind, micro-credentials in the three pilots (people
outside the labour market, health and social care, small businesses) and pathways.

Pure data: payloads in the API's shape (``ProviderDetails``, ``MicroCredentialContent``,
``PathwayContent``), so a loader can send them through the same validation as a provider would.
Micro-credentials have a ``key``; pathways name their members by those keys and the loader maps
them to the ids the catalogue assigns.

Apart from Högskolan Kristianstad the organisations are fictional, and every organisation number
here is invented (valid check digit, third digit >= 2) except 202100-5489 and 212000-0142, the
examples in STANDARDS.md; none is a real organisation's number.
"""

from __future__ import annotations

import uuid
from typing import Any

Payload = dict[str, Any]

# ESCO skill URIs here are ILLUSTRATIVE: UUID-shaped ids derived from the skill's label (uuid5),
# not looked up in ESCO (these machines have no access to it). The same label always gives the
# same URI, so skill search and facets behave as with real data; a curator replaces them with
# the real ESCO concepts before anything leaves the demo.
_ESCO_DEMO_NAMESPACE = uuid.UUID("6b1f5c3e-8f0a-4c8e-9d1a-2f3b4c5d6e7f")


def _esco(label: str) -> str:
    return f"http://data.europa.eu/esco/skill/{uuid.uuid5(_ESCO_DEMO_NAMESPACE, label)}"


def _outcome(sv: str, en: str, *skills: str) -> Payload:
    return {"text": {"sv": sv, "en": en}, "esco_skills": [_esco(s) for s in skills]}


def _text(sv: str, en: str) -> Payload:
    return {"sv": sv, "en": en}


def _provider(slug: str, name: str, number: str, kind: str, contact: str, email: str, website: str,
              members: list[str]) -> Payload:
    return {
        "id": slug,
        "details": {"name": name, "organisation_number": number, "kind": kind,
                    "contact": {"name": contact, "email": email}, "website": website,
                    "country": "SE", "region": "SE224"},
        "members": members,
    }


DEMO_PROVIDERS: list[Payload] = [
    _provider("hkr", "Högskolan Kristianstad", "202100-5489", "university", "Anna Svensson",
              "mikromeriter@hkr.example", "https://www.hkr.se", ["demo-anna-hkr", "demo-omar-hkr"]),
    _provider("ljungbackens-folkhogskola", "Ljungbackens folkhögskola", "802481-7366", "adult-education",
              "Karin Lind", "kurser@ljungbacken.example", "https://ljungbacken.example",
              ["demo-karin-ljungbacken"]),
    _provider("studieforbundet-kunskap-syd", "Studieförbundet Kunskap Syd", "802514-2699", "adult-education",
              "Jonas Berg", "skane@kunskapsyd.example", "https://kunskapsyd.example",
              ["demo-jonas-kunskapsyd"]),
    _provider("nya-vagar-skane", "Föreningen Nya Vägar Skåne", "802466-0956", "civil-society",
              "Leila Haddad", "info@nyavagar.example", "https://nyavagar.example", ["demo-leila-nyavagar"]),
    _provider("verkstadsakademin-syd", "Verkstadsakademin Syd AB", "556934-1729", "employer",
              "Per Nilsson", "akademin@verkstadsakademin.example", "https://verkstadsakademin.example",
              ["demo-per-verkstad"]),
    _provider("omsorgsbolaget-syd", "Omsorgsbolaget Syd AB", "559218-6406", "employer",
              "Sara Ek", "utbildning@omsorgsbolaget.example", "https://omsorgsbolaget.example",
              ["demo-sara-omsorg"]),
    _provider("vuxenutbildning-mellanskane", "Kommunalförbundet Vuxenutbildning Mellanskåne", "222000-3178",
              "municipality", "Maria Persson", "vux@mellanskane.example", "https://vux.mellanskane.example",
              ["demo-maria-vux"]),
]

_FREE_FOR_JOB_SEEKERS = {"amount_sek": "0", "funding": _text(
    "Kostnadsfri för arbetssökande; finansieras av kommunens arbetsmarknadsenhet.",
    "Free of charge for job seekers; funded by the municipality's labour-market unit.")}
_KOMVUX = {"amount_sek": "0", "funding": _text(
    "Kostnadsfri inom kommunal vuxenutbildning.", "Free of charge within municipal adult education.")}
_FOLKBILDNING = {"amount_sek": "0", "funding": _text(
    "Kostnadsfri; finansieras med statsbidrag till folkbildningen.",
    "Free of charge; funded by the state grant to popular adult education.")}
_UNIVERSITY = {"amount_sek": "0", "funding": _text(
    "Avgiftsfri för medborgare i EU/EES och Schweiz.", "Free for citizens of the EU/EEA and Switzerland.")}
_INTERNAL_QA = {"types": ["internal", "external-review"]}


def _mc(key: str, provider_id: str, **content: Any) -> Payload:
    return {"key": key, "provider_id": provider_id, "content": content}


DEMO_MICRO_CREDENTIALS: list[Payload] = [
    # --- people outside the labour market ----------------------------------------------------
    _mc("digital-vardag-och-jobbsok", "nya-vagar-skane",
        title=_text("Digital vardag och jobbsökning", "Digital everyday skills and job seeking"),
        description=_text(
            "För dig som vill bli trygg med dator och mobil: e-legitimation, e-post, kontakter med "
            "myndigheter och att söka jobb på nätet. Små grupper med studiehandledning på arabiska.",
            "For anyone who wants to feel confident with computer and phone: e-ID, e-mail, contact with "
            "public agencies and searching for jobs online. Small groups with study guidance in Arabic."),
        learning_outcomes=[
            _outcome("Använda e-legitimation och e-post för att sköta ärenden hos myndigheter på egen hand.",
                     "Use an e-ID and e-mail to handle matters with public agencies independently.",
                     "use e-services", "use digital communication tools"),
            _outcome("Söka lediga jobb i Platsbanken och skicka en ansökan med CV digitalt.",
                     "Search for vacancies on Platsbanken and send an application with a CV digitally.",
                     "search for job vacancies", "write a CV"),
            _outcome("Skydda sina personuppgifter och känna igen bedrägeriförsök på nätet.",
                     "Protect one's personal data and recognise online fraud attempts.",
                     "protect personal data and privacy"),
        ],
        workload={"hours": 30}, level={"eqf": 2},
        assessment={"type": "practical-demonstration", "description": _text(
            "Deltagaren visar uppgifterna vid datorn för kursledaren.",
            "The learner carries out the tasks at the computer in front of the course leader.")},
        participation={"mode": "onsite", "pacing": "supervised"}, quality_assurance=_INTERNAL_QA,
        supervision={"supervised_assessment": True, "identity_verified": True},
        grading={"scheme": "pass-fail"},
        integration={"stackability": "stackable", "towards": [_text("Redo för lager och industri",
                                                                    "Ready for warehouse and industry")]},
        branches=["it-och-digitalisering"], target_groups=["utanfor-arbetsmarknaden", "nyanlanda"],
        pilots=["utanfor-arbetsmarknaden"], languages=["sv", "ar"], price=_FREE_FOR_JOB_SEEKERS),
    _mc("svenska-for-arbetslivet", "ljungbackens-folkhogskola",
        title=_text("Svenska för arbetslivet – samtal på arbetsplatsen",
                    "Swedish for working life – conversations at the workplace"),
        description=_text(
            "Praktisk svenska för den som ska börja arbeta: småprat med kollegor, instruktioner, "
            "telefonsamtal och sjukanmälan. Varvar lektioner med uppgifter på en praktikplats.",
            "Practical Swedish for people about to start work: small talk with colleagues, instructions, "
            "phone calls and reporting sick. Lessons alternate with tasks at a work placement."),
        learning_outcomes=[
            _outcome("Delta i vardagliga samtal med kollegor och kunder på enkel svenska.",
                     "Take part in everyday conversations with colleagues and customers in simple Swedish.",
                     "communicate verbally in Swedish"),
            _outcome("Förstå och följa muntliga och skriftliga instruktioner på arbetsplatsen.",
                     "Understand and follow spoken and written instructions at the workplace.",
                     "follow verbal instructions", "follow written instructions"),
            _outcome("Anmäla sjukdom och frånvaro per telefon och i arbetsgivarens digitala system.",
                     "Report sickness and absence by phone and in the employer's digital system.",
                     "communicate by telephone"),
        ],
        workload={"hours": 80}, level={"eqf": 2},
        assessment={"type": "oral-exam"}, participation={"mode": "blended", "pacing": "supervised"},
        quality_assurance=_INTERNAL_QA, grading={"scheme": "pass-fail"},
        prerequisites=_text("Svenska på nivå A2 eller motsvarande.", "Swedish at level A2 or equivalent."),
        branches=["service"], target_groups=["nyanlanda", "utanfor-arbetsmarknaden"],
        pilots=["utanfor-arbetsmarknaden"], languages=["sv", "en"], price=_FOLKBILDNING),
    _mc("arbetslivet-i-sverige", "studieforbundet-kunskap-syd",
        title=_text("Arbetslivet i Sverige – rättigheter, skyldigheter och arbetsmiljö",
                    "Working life in Sweden – rights, obligations and the working environment"),
        description=_text(
            "Studiecirkel om hur den svenska arbetsmarknaden fungerar: anställningsformer, kollektivavtal, "
            "arbetstider och arbetsmiljö. Ledare som talar svenska, arabiska och engelska.",
            "Study circle on how the Swedish labour market works: forms of employment, collective "
            "agreements, "
            "working hours and the working environment. Leaders who speak Swedish, Arabic and English."),
        learning_outcomes=[
            _outcome("Förklara vad ett anställningsavtal och ett kollektivavtal reglerar.",
                     "Explain what an employment contract and a collective agreement regulate.",
                     "labour legislation"),
            _outcome("Beskriva arbetsgivarens och arbetstagarens ansvar för arbetsmiljön.",
                     "Describe the employer's and the employee's responsibilities for the working "
                     "environment.",
                     "health and safety in the workplace"),
            _outcome("Veta vart man vänder sig för råd, t.ex. fackförbund och Arbetsmiljöverket.",
                     "Know where to turn for advice, e.g. trade unions and the Swedish Work Environment "
                     "Authority.",
                     "identify sources of support"),
        ],
        workload={"hours": 20}, level={"eqf": 2},
        assessment={"type": "other", "description": _text(
            "Samtal i gruppen och en kort skriftlig eller muntlig reflektion.",
            "Group discussion and a short written or spoken reflection.")},
        participation={"mode": "onsite", "pacing": "supervised"}, quality_assurance={"types": ["internal"]},
        branches=["service", "handel"], target_groups=["utanfor-arbetsmarknaden", "nyanlanda", "unga-vuxna"],
        pilots=["utanfor-arbetsmarknaden"], languages=["sv", "ar", "en"], price=_FOLKBILDNING),
    _mc("truckforare-lager", "verkstadsakademin-syd",
        title=_text("Truckförare i lager och produktion (truckkort A och B)",
                    "Forklift operation in warehouse and production (classes A and B)"),
        description=_text(
            "Teori och körning på riktiga truckar i vår verkstad, med handledare från produktionen. "
            "Leder till truckkort för motviktstruck och skjutstativtruck.",
            "Theory and driving on real trucks in our workshop, with supervisors from production. Leads to a "
            "licence for counterbalance and reach trucks."),
        learning_outcomes=[
            _outcome("Köra motviktstruck och skjutstativtruck säkert i lager och produktion.",
                     "Operate counterbalance and reach trucks safely in warehouse and production.",
                     "operate forklift"),
            _outcome("Utföra daglig tillsyn av trucken och rapportera fel.",
                     "Carry out the daily inspection of the truck and report faults.",
                     "perform routine machinery checks"),
            _outcome("Hantera, stapla och säkra gods enligt lastdiagram.",
                     "Handle, stack and secure goods according to the load chart.",
                     "stack goods", "secure goods"),
        ],
        workload={"hours": 40}, level={"eqf": 3},
        assessment={"type": "practical-demonstration", "description": _text(
            "Skriftligt teoriprov och praktiskt körprov.",
            "Written theory test and practical driving test.")},
        participation={"mode": "work-based", "pacing": "supervised"}, quality_assurance=_INTERNAL_QA,
        supervision={"supervised_assessment": True, "identity_verified": True},
        grading={"scheme": "pass-fail"},
        prerequisites=_text("Minst 18 år.", "At least 18 years old."),
        integration={"stackability": "stackable", "towards": [_text("Redo för lager och industri",
                                                                    "Ready for warehouse and industry")]},
        branches=["transport-och-logistik", "industri-och-tillverkning"],
        target_groups=["utanfor-arbetsmarknaden", "unga-vuxna"], pilots=["utanfor-arbetsmarknaden"],
        languages=["sv"],
        price={"amount_sek": "6500", "funding": _text(
            "Kostnadsfri för deltagare som anvisas av Arbetsförmedlingen; annars betalar arbetsgivaren.",
            "Free for participants referred by the Public Employment Service; otherwise the employer "
            "pays.")}),
    _mc("livsmedelshygien-storkok", "vuxenutbildning-mellanskane",
        title=_text("Livsmedelshygien och arbete i storkök", "Food hygiene and work in commercial kitchens"),
        description=_text(
            "Grunderna för att arbeta säkert i restaurang- och storkök: egenkontroll, temperaturer, "
            "allergener och rengöring. Halva tiden i skolans kök.",
            "The basics of working safely in restaurant and commercial kitchens: own-check programmes, "
            "temperatures, allergens and cleaning. Half the time in the school kitchen."),
        learning_outcomes=[
            _outcome("Arbeta enligt verksamhetens egenkontrollprogram och dokumentera kontrollerna.",
                     "Work to the kitchen's own-check programme and document the checks.",
                     "comply with food safety and hygiene"),
            _outcome("Förvara, kyla och värma livsmedel vid säkra temperaturer.",
                     "Store, chill and reheat food at safe temperatures.", "apply food storage methods"),
            _outcome("Hantera allergener så att ingen kontaminering sker.",
                     "Handle allergens so that no cross-contamination occurs.", "manage food allergens"),
        ],
        workload={"hours": 50}, level={"eqf": 3},
        assessment={"type": "practical-demonstration"},
        participation={"mode": "onsite", "pacing": "supervised"},
        quality_assurance={"types": ["internal", "accredited"], "description": _text(
            "Kursen följer skolverkets kursplan och kommunens kvalitetssystem.",
            "The course follows the national syllabus and the municipality's quality system.")},
        grading={"scheme": "a-f"},
        integration={"stackability": "stackable",
                     "towards": [_text("Restaurangbiträde", "Kitchen assistant")]},
        branches=["hotell-och-restaurang"], target_groups=["utanfor-arbetsmarknaden", "nyanlanda"],
        pilots=["utanfor-arbetsmarknaden"], languages=["sv", "ar"], price=_KOMVUX),
    _mc("kundbemotande-handel", "studieforbundet-kunskap-syd",
        title=_text("Kundbemötande i handel och service", "Customer service in retail and services"),
        description=_text(
            "Hur man möter kunder i butik och service: ta reda på behov, hantera klagomål och sköta kassan. "
            "Avslutas med två veckors praktik.",
            "How to serve customers in shops and services: find out what they need, handle complaints and "
            "run the till. Ends with two weeks of work placement."),
        learning_outcomes=[
            _outcome("Ta emot kunder och ta reda på deras behov genom frågor.",
                     "Greet customers and find out their needs by asking questions.",
                     "identify customer's needs"),
            _outcome("Hantera klagomål lugnt och enligt butikens rutiner.",
                     "Handle complaints calmly and according to the shop's routines.",
                     "handle customer complaints"),
            _outcome("Sköta betalningar och kassarutiner korrekt.",
                     "Handle payments and till routines correctly.",
                     "process payments"),
        ],
        workload={"hours": 30}, level={"eqf": 3},
        assessment={"type": "workplace-observation"},
        participation={"mode": "blended", "pacing": "supervised"},
        quality_assurance=_INTERNAL_QA, grading={"scheme": "pass-fail"},
        branches=["handel", "service"], target_groups=["unga-vuxna", "utanfor-arbetsmarknaden"],
        pilots=["utanfor-arbetsmarknaden"], languages=["sv", "en"], price=_FOLKBILDNING),

    # --- health and social care -------------------------------------------------------------
    _mc("basala-hygienrutiner", "vuxenutbildning-mellanskane",
        title=_text("Basala hygienrutiner och smittskydd i vård och omsorg",
                    "Basic hygiene routines and infection control in health and social care"),
        description=_text(
            "Hygien som skyddar brukare, patienter och personal: handhygien, skyddsutrustning, smittvägar "
            "och avfall. Krävs av de flesta arbetsgivare i vård och omsorg.",
            "Hygiene that protects clients, patients and staff: hand hygiene, protective equipment, routes "
            "of infection and waste. Required by most employers in health and social care."),
        learning_outcomes=[
            _outcome("Tillämpa basala hygienrutiner: handdesinfektion, handskar, förkläde och arbetskläder.",
                     "Apply basic hygiene routines: hand disinfection, gloves, apron and work clothes.",
                     "apply hygiene standards", "use personal protective equipment"),
            _outcome("Förklara de vanligaste smittvägarna och hur smittspridning förebyggs.",
                     "Explain the most common routes of infection and how spread is prevented.",
                     "prevent infections"),
            _outcome("Hantera tvätt och smittförande avfall säkert.",
                     "Handle laundry and infectious waste safely.",
                     "dispose of hazardous waste"),
        ],
        workload={"hours": 24}, level={"eqf": 4, "seqf": 4},
        assessment={"type": "practical-demonstration"},
        participation={"mode": "onsite", "pacing": "supervised"},
        quality_assurance=_INTERNAL_QA,
        supervision={"supervised_assessment": True, "identity_verified": True},
        grading={"scheme": "pass-fail"},
        integration={"stackability": "stackable", "towards": [_text("Vägen mot undersköterska",
                                                                    "Toward assistant nurse")]},
        branches=["vard-och-omsorg"], target_groups=["utanfor-arbetsmarknaden", "yrkesverksamma"],
        pilots=["vard-och-omsorg"], languages=["sv"], price=_KOMVUX),
    _mc("lakemedel-delegering", "vuxenutbildning-mellanskane",
        title=_text("Läkemedelshantering på delegering", "Medication handling under delegation"),
        description=_text(
            "För omsorgspersonal som ska ge läkemedel på delegering från sjuksköterska. Ges tillsammans med "
            "Högskolan Kristianstads sjuksköterskeutbildning.",
            "For care staff who give medicines under delegation from a nurse. Given together with the "
            "nursing programme of Kristianstad University."),
        co_awarding_bodies=[{"name": "Högskolan Kristianstad", "organisation_number": "202100-5489"}],
        learning_outcomes=[
            _outcome("Förklara vad delegering innebär och vilket ansvar den för med sig.",
                     "Explain what delegation means and the responsibility it brings.",
                     "accept own accountability"),
            _outcome("Överlämna läkemedel ur dosförpackning korrekt och dokumentera det.",
                     "Hand over medicines from multi-dose packs correctly and document it.",
                     "administer medication", "document care"),
            _outcome("Observera och rapportera biverkningar till ansvarig sjuksköterska.",
                     "Observe and report side effects to the responsible nurse.",
                     "report adverse drug reactions"),
        ],
        workload={"hours": 16}, level={"eqf": 4},
        assessment={"type": "written-exam"}, participation={"mode": "blended", "pacing": "supervised"},
        quality_assurance={"types": ["internal", "external-review"], "description": _text(
            "Innehållet är granskat av medicinskt ansvarig sjuksköterska (MAS).",
            "The content is reviewed by the medically responsible nurse (MAS).")},
        supervision={"supervised_assessment": True, "identity_verified": True},
        grading={"scheme": "pass-fail"},
        prerequisites=_text("Anställning eller praktik i vård och omsorg; godkänd i basala hygienrutiner.",
                            "Employment or placement in health and social care; passed basic hygiene "
                            "routines."),
        integration={"stackability": "stackable", "towards": [_text("Vägen mot undersköterska",
                                                                    "Toward assistant nurse")]},
        branches=["vard-och-omsorg"], target_groups=["yrkesverksamma"], pilots=["vard-och-omsorg"],
        languages=["sv"], price=_KOMVUX),
    _mc("personcentrerad-demensvard", "hkr",
        title=_text("Personcentrerad demensvård", "Person-centred dementia care"),
        description=_text(
            "Kurs på grundnivå på distans för dig som arbetar med personer med demenssjukdom.",
            "First-cycle online course for people who work with persons with dementia."),
        learning_outcomes=[
            _outcome("Beskriva de vanligaste demenssjukdomarna och deras symtom.",
                     "Describe the most common dementia diseases and their symptoms.", "dementia care"),
            _outcome("Tillämpa ett personcentrerat förhållningssätt i omvårdnaden.",
                     "Apply a person-centred approach in care.", "apply person-centred care"),
            _outcome("Analysera beteendemässiga och psykiska symtom vid demens och föreslå åtgärder "
                     "utan läkemedel.",
                     "Analyse behavioural and psychological symptoms of dementia and propose non-drug "
                     "interventions.",
                     "analyse care situations", "dementia care"),
        ],
        workload={"ects": "3", "hours": 80}, level={"eqf": 6, "seqf": 6},
        assessment={"type": "written-exam", "description": _text(
            "Salstentamen på distans med identitetskontroll.",
            "Remote invigilated exam with identity check.")},
        participation={"mode": "online", "pacing": "self-paced"},
        quality_assurance={"types": ["internal", "accredited"], "description": _text(
            "Högskolans kvalitetssystem, granskat av Universitetskanslersämbetet (UKÄ).",
            "The university's quality system, reviewed by the Swedish Higher Education Authority (UKÄ).")},
        supervision={"supervised_assessment": True, "identity_verified": True},
        grading={"scheme": "pass-distinction"},
        prerequisites=_text("Grundläggande behörighet för högskolestudier eller motsvarande reell kompetens.",
                            "General entry requirements for higher education or equivalent prior learning."),
        integration={"stackability": "stackable",
                     "towards": [_text("Specialistundersköterska inom demensvård",
                                                                    "Specialist assistant nurse in dementia "
                                                                    "care")]},
        further_information=_text("Ges varje termin med start i januari och augusti.",
                                  "Runs every term, starting in January and August."),
        further_information_url="https://www.hkr.se",
        branches=["vard-och-omsorg"], target_groups=["yrkesverksamma"], pilots=["vard-och-omsorg"],
        languages=["sv", "en"], price=_UNIVERSITY),
    _mc("omsorgssvenska", "ljungbackens-folkhogskola",
        title=_text("Omsorgssvenska – kommunikation och dokumentation",
                    "Swedish for care work – communication and documentation"),
        description=_text(
            "Svenska för dig som arbetar eller vill arbeta i äldreomsorg, hemtjänst eller LSS-boende.",
            "Swedish for people who work, or want to work, in elderly care, home care or disability "
            "housing."),
        learning_outcomes=[
            _outcome("Kommunicera respektfullt med brukare och anhöriga i vanliga omsorgssituationer.",
                     "Communicate respectfully with clients and relatives in common care situations.",
                     "communicate with healthcare users", "communicate verbally in Swedish"),
            _outcome("Skriva korta, sakliga anteckningar i social dokumentation.",
                     "Write short, objective notes in social documentation.", "document care"),
            _outcome("Förstå vanliga ord och förkortningar i vård och omsorg.",
                     "Understand common words and abbreviations in health and social care.",
                     "medical terminology"),
        ],
        workload={"hours": 80}, level={"eqf": 3},
        assessment={"type": "portfolio"}, participation={"mode": "blended", "pacing": "supervised"},
        quality_assurance=_INTERNAL_QA, grading={"scheme": "pass-fail"},
        integration={"stackability": "stackable", "towards": [_text("Vägen mot undersköterska",
                                                                    "Toward assistant nurse")]},
        branches=["vard-och-omsorg"], target_groups=["nyanlanda", "utanfor-arbetsmarknaden"],
        pilots=["vard-och-omsorg", "utanfor-arbetsmarknaden"], languages=["sv", "ar"], price=_FOLKBILDNING),
    _mc("handledning-vard-och-omsorg", "hkr",
        title=_text("Handledning av studenter och nyanställda i vård och omsorg",
                    "Supervising students and new staff in health and social care"),
        description=_text(
            "För undersköterskor, sjuksköterskor och chefer som handleder på arbetsplatsen.",
            "For assistant nurses, nurses and managers who supervise at the workplace."),
        learning_outcomes=[
            _outcome("Planera och genomföra handledning utifrån lärandemål.",
                     "Plan and carry out supervision based on learning objectives.", "mentor individuals"),
            _outcome("Ge konstruktiv återkoppling och bedöma en handledds utveckling.",
                     "Give constructive feedback and assess a supervisee's progress.",
                     "give constructive feedback"),
            _outcome("Reflektera över sin egen roll som handledare.",
                     "Reflect on one's own role as a supervisor.", "reflect on own practice"),
        ],
        workload={"ects": "4.5", "hours": 120}, level={"eqf": 6, "seqf": 6},
        assessment={"type": "project"}, participation={"mode": "blended", "pacing": "supervised"},
        quality_assurance={"types": ["internal", "accredited"]}, grading={"scheme": "pass-distinction"},
        branches=["vard-och-omsorg"], target_groups=["chefer-och-handledare", "yrkesverksamma"],
        pilots=["vard-och-omsorg"], languages=["sv"], price=_UNIVERSITY),
    _mc("valfardsteknik", "omsorgsbolaget-syd",
        title=_text("Välfärdsteknik i hemtjänst och särskilt boende",
                    "Welfare technology in home care and residential care"),
        description=_text(
            "Digitala trygghetslarm, tillsyn via kamera, läkemedelsautomater och planeringsappar: hur de "
            "används tryggt och med respekt för den enskildes integritet.",
            "Digital safety alarms, camera supervision, medicine dispensers and planning apps: how to use "
            "them safely and with respect for the individual's privacy."),
        learning_outcomes=[
            _outcome("Använda vanlig välfärdsteknik i hemtjänst och särskilt boende.",
                     "Use common welfare technology in home care and residential care.",
                     "use e-health technologies"),
            _outcome("Stötta brukare och anhöriga i att använda tekniken.",
                     "Support clients and relatives in using the technology.",
                     "instruct on the use of equipment"),
            _outcome("Följa regler om integritet och samtycke när tekniken införs.",
                     "Follow rules on privacy and consent when the technology is introduced.",
                     "protect personal data and privacy"),
        ],
        workload={"hours": 30}, level={"eqf": 4},
        assessment={"type": "online-test"}, participation={"mode": "online", "pacing": "self-paced"},
        quality_assurance=_INTERNAL_QA,
        supervision={"supervised_assessment": False, "identity_verified": True},
        grading={"scheme": "pass-fail"},
        integration={"stackability": "stackable", "towards": [_text("Vägen mot undersköterska",
                                                                    "Toward assistant nurse")]},
        branches=["vard-och-omsorg", "it-och-digitalisering"], target_groups=["yrkesverksamma"],
        pilots=["vard-och-omsorg"], languages=["sv", "en"],
        price={"amount_sek": "1500", "funding": _text(
            "Betalas av arbetsgivaren; kostnadsfri för bolagets anställda.",
            "Paid by the employer; free for the company's own staff.")}),
    _mc("forsta-hjalpen-hlr", "nya-vagar-skane",
        title=_text("Första hjälpen och hjärt-lungräddning (HLR) för vuxna",
                    "First aid and cardiopulmonary resuscitation (CPR) for adults"),
        description=_text(
            "En dag med övningar på docka och i olycksscenarier. Instruktörer som talar svenska, arabiska "
            "och engelska.",
            "A day of practice on manikins and in accident scenarios. Instructors who speak Swedish, Arabic "
            "and English."),
        learning_outcomes=[
            _outcome("Utföra hjärt-lungräddning och använda en hjärtstartare.",
                     "Perform CPR and use a defibrillator.", "perform cardiopulmonary resuscitation"),
            _outcome("Göra en säker bedömning på olycksplatsen och ge första hjälpen.",
                     "Make a safe assessment at the scene of an accident and give first aid.",
                     "provide first aid"),
            _outcome("Larma 112 och lämna tydlig information.", "Call 112 and give clear information.",
                     "handle emergency calls"),
        ],
        workload={"hours": 8}, level={"eqf": 2},
        assessment={"type": "practical-demonstration"},
        participation={"mode": "onsite", "pacing": "supervised"},
        quality_assurance=_INTERNAL_QA, grading={"scheme": "pass-fail"},
        branches=["vard-och-omsorg", "service"], target_groups=["utanfor-arbetsmarknaden", "yrkesverksamma"],
        pilots=["vard-och-omsorg", "utanfor-arbetsmarknaden"], languages=["sv", "ar", "en"],
        price={"amount_sek": "300", "funding": _text(
            "Gratis för arbetssökande inskrivna hos kommunens arbetsmarknadsenhet.",
            "Free for job seekers registered with the municipality's labour-market unit.")}),
    _mc("social-dokumentation-ibic", "omsorgsbolaget-syd",
        title=_text("Social dokumentation enligt IBIC", "Social documentation using IBIC"),
        description=_text(
            "Dokumentation i äldreomsorgen enligt arbetssättet Individens behov i centrum (IBIC), "
            "övat i verksamhetens eget journalsystem.",
            "Documentation in elderly care using the 'Individual's needs in focus' (IBIC) method, practised "
            "in the organisation's own records system."),
        learning_outcomes=[
            _outcome("Dokumentera genomförandet av insatser sakligt och enligt IBIC.",
                     "Document the delivery of care objectively and according to IBIC.", "document care"),
            _outcome("Skilja mellan iakttagelser, tolkningar och bedömningar i journaltext.",
                     "Distinguish observations, interpretations and assessments in record notes.",
                     "keep records of care"),
            _outcome("Följa reglerna om sekretess och tystnadsplikt.", "Follow the rules on confidentiality.",
                     "observe confidentiality"),
        ],
        workload={"hours": 20}, level={"eqf": 4},
        assessment={"type": "workplace-observation"},
        participation={"mode": "work-based", "pacing": "supervised"},
        quality_assurance=_INTERNAL_QA,
        supervision={"supervised_assessment": True, "identity_verified": True},
        integration={"stackability": "stackable", "towards": [_text("Vägen mot undersköterska",
                                                                    "Toward assistant nurse")]},
        branches=["vard-och-omsorg"], target_groups=["yrkesverksamma"], pilots=["vard-och-omsorg"],
        languages=["sv"], price=_FREE_FOR_JOB_SEEKERS),

    # --- small businesses across branches ----------------------------------------------------
    _mc("digital-marknadsforing", "studieforbundet-kunskap-syd",
        title=_text("Digital marknadsföring för småföretag", "Digital marketing for small businesses"),
        description=_text(
            "Från plan till publicering: sociala medier, enkel webbanalys och regler för marknadsföring.",
            "From plan to publication: social media, simple web analytics and the rules for marketing."),
        learning_outcomes=[
            _outcome("Ta fram en enkel marknadsplan för sociala medier.",
                     "Produce a simple marketing plan for social media.",
                     "plan social media marketing campaigns"),
            _outcome("Följa upp resultat med webbanalys och justera insatserna.",
                     "Follow up results with web analytics and adjust the effort.", "use web analytics"),
            _outcome("Följa marknadsföringslagen och dataskyddsförordningen i sin marknadsföring.",
                     "Comply with marketing law and the GDPR in one's marketing.",
                     "comply with legal regulations"),
        ],
        workload={"hours": 30}, level={"eqf": 4},
        assessment={"type": "project"}, participation={"mode": "online", "pacing": "self-paced"},
        quality_assurance=_INTERNAL_QA, grading={"scheme": "pass-fail"},
        integration={"stackability": "stackable", "towards": [_text("Eget företag", "Own business")]},
        branches=["foretagande", "handel"], target_groups=["smaforetagare"], pilots=["smaforetag"],
        languages=["sv", "en"],
        price={"amount_sek": "1200", "funding": _text(
            "Regionens stöd för kompetensutveckling i småföretag kan täcka avgiften.",
            "The region's support for skills development in small businesses can cover the fee.")}),
    _mc("ekonomi-och-bokforing", "ljungbackens-folkhogskola",
        title=_text("Ekonomi och bokföring för småföretagare",
                    "Finance and bookkeeping for small-business owners"),
        description=_text(
            "Löpande bokföring, moms och bokslut för den som driver eller ska starta ett litet företag.",
            "Day-to-day bookkeeping, VAT and year-end accounts for people who run or will start a small "
            "business."),
        learning_outcomes=[
            _outcome("Bokföra löpande affärshändelser med dubbel bokföring.",
                     "Record day-to-day transactions using double-entry bookkeeping.",
                     "keep financial records"),
            _outcome("Upprätta och lämna en momsdeklaration.", "Prepare and file a VAT return.",
                     "prepare tax returns forms"),
            _outcome("Läsa och tolka en resultat- och balansräkning.",
                     "Read and interpret an income statement and a balance sheet.",
                     "interpret financial statements"),
        ],
        workload={"hours": 40}, level={"eqf": 4},
        assessment={"type": "written-exam"}, participation={"mode": "blended", "pacing": "supervised"},
        quality_assurance=_INTERNAL_QA, grading={"scheme": "pass-distinction"},
        integration={"stackability": "stackable", "towards": [_text("Eget företag", "Own business")]},
        branches=["foretagande"], target_groups=["smaforetagare", "nyanlanda"], pilots=["smaforetag"],
        languages=["sv", "ar"], price={"amount_sek": "800"}),
    _mc("lean-i-smaforetag", "verkstadsakademin-syd",
        title=_text("Lean och ständiga förbättringar i små tillverkningsföretag",
                    "Lean and continuous improvement in small manufacturing firms"),
        description=_text(
            "Förbättringsarbete på riktigt: deltagarna kartlägger ett flöde i sitt eget företag och leder "
            "ett förbättringsprojekt med stöd av akademins coacher.",
            "Improvement work for real: participants map a flow in their own company and lead an improvement "
            "project supported by the academy's coaches."),
        learning_outcomes=[
            _outcome("Kartlägga ett värdeflöde och identifiera slöseri.",
                     "Map a value stream and identify waste.", "apply lean manufacturing"),
            _outcome("Leda ett förbättringsmöte och följa upp åtgärder.",
                     "Lead an improvement meeting and follow up actions.", "lead continuous improvement"),
            _outcome("Införa 5S på en arbetsstation.", "Introduce 5S at a workstation.", "implement 5S"),
        ],
        workload={"hours": 60}, level={"eqf": 5},
        assessment={"type": "project", "description": _text(
            "Förbättringsprojekt i det egna företaget, redovisat för en bedömningsgrupp.",
            "Improvement project in one's own company, presented to an assessment panel.")},
        participation={"mode": "work-based", "pacing": "supervised"}, quality_assurance=_INTERNAL_QA,
        grading={"scheme": "pass-distinction"},
        branches=["industri-och-tillverkning"], target_groups=["yrkesverksamma", "smaforetagare"],
        pilots=["smaforetag"], languages=["sv", "en"],
        price={"amount_sek": "9500", "funding": _text(
            "Betalas av arbetsgivaren; kan delfinansieras med regionala kompetensmedel.",
            "Paid by the employer; can be part-funded by regional skills funds.")}),
    _mc("informationssakerhet-smaforetag", "hkr",
        title=_text("Informationssäkerhet för småföretag", "Information security for small businesses"),
        description=_text(
            "Kurs på grundnivå på engelska och svenska om hur ett litet företag skyddar sin information.",
            "First-cycle course in English and Swedish on how a small business protects its information."),
        learning_outcomes=[
            _outcome("Genomföra en enkel riskanalys av företagets informationstillgångar.",
                     "Carry out a simple risk analysis of the company's information assets.",
                     "perform risk analysis"),
            _outcome("Införa grundläggande skydd: flerfaktorsinloggning, säkerhetskopior och uppdateringar.",
                     "Put basic protection in place: multi-factor login, backups and updates.",
                     "implement ICT security policies"),
            _outcome("Planera hanteringen av en säkerhetsincident.",
                     "Plan the handling of a security incident.", "manage ICT security incidents"),
        ],
        workload={"ects": "1.5", "hours": 40}, level={"eqf": 6, "seqf": 6},
        assessment={"type": "online-test"}, participation={"mode": "online", "pacing": "self-paced"},
        quality_assurance={"types": ["internal", "accredited"]},
        supervision={"supervised_assessment": False, "identity_verified": True}, grading={"scheme": "a-f"},
        integration={"stackability": "stand-alone"},
        further_information_url="https://www.hkr.se",
        branches=["it-och-digitalisering", "foretagande"], target_groups=["smaforetagare", "yrkesverksamma"],
        pilots=["smaforetag"], languages=["en", "sv"], price=_UNIVERSITY),
    _mc("systematiskt-arbetsmiljoarbete", "vuxenutbildning-mellanskane",
        title=_text("Systematiskt arbetsmiljöarbete i småföretag",
                    "Systematic work environment management in small businesses"),
        description=_text(
            "För ägare och arbetsledare i små företag i bygg, handel och service.",
            "For owners and supervisors in small businesses in construction, retail and services."),
        learning_outcomes=[
            _outcome("Beskriva arbetsgivarens ansvar enligt arbetsmiljölagen och Arbetsmiljöverkets "
                     "föreskrifter.",
                     "Describe the employer's duties under the Work Environment Act and the authority's "
                     "provisions.",
                     "health and safety in the workplace"),
            _outcome("Göra en riskbedömning och en handlingsplan.",
                     "Carry out a risk assessment and an action plan.",
                     "perform risk analysis"),
            _outcome("Genomföra en skyddsrond tillsammans med medarbetarna.",
                     "Carry out a safety inspection together with the staff.", "conduct workplace audits"),
        ],
        workload={"hours": 16}, level={"eqf": 4},
        assessment={"type": "project"}, participation={"mode": "blended", "pacing": "supervised"},
        quality_assurance=_INTERNAL_QA, grading={"scheme": "pass-fail"},
        branches=["foretagande", "bygg-och-anlaggning", "handel"],
        target_groups=["smaforetagare", "chefer-och-handledare"], pilots=["smaforetag"], languages=["sv"],
        price={"amount_sek": "1000"}),
    _mc("starta-eget-foretag", "nya-vagar-skane",
        title=_text("Starta och driva eget företag i Sverige",
                    "Starting and running your own business in Sweden"),
        description=_text(
            "För dig som har en affärsidé: affärsplan, registrering, skatter och prissättning. "
            "Mentorer från föreningens nätverk av företagare.",
            "For anyone with a business idea: business plan, registration, taxes and pricing. Mentors from "
            "the association's network of business owners."),
        learning_outcomes=[
            _outcome("Skriva en affärsplan för sin idé.", "Write a business plan for one's idea.",
                     "develop business plans"),
            _outcome("Registrera ett företag och ansöka om F-skatt.",
                     "Register a company and apply for F-tax.",
                     "comply with legal regulations"),
            _outcome("Prissätta produkter och räkna på lönsamhet.",
                     "Price products and calculate profitability.",
                     "set pricing strategies", "interpret financial statements"),
        ],
        workload={"hours": 40}, level={"eqf": 3},
        assessment={"type": "project", "description": _text(
            "Affärsplanen presenteras för en panel av företagare.",
            "The business plan is presented to a panel of business owners.")},
        participation={"mode": "blended", "pacing": "supervised"}, quality_assurance=_INTERNAL_QA,
        integration={"stackability": "stackable", "towards": [_text("Eget företag", "Own business")]},
        branches=["foretagande"], target_groups=["utanfor-arbetsmarknaden", "nyanlanda", "smaforetagare"],
        pilots=["smaforetag", "utanfor-arbetsmarknaden"], languages=["sv", "ar", "en"],
        price=_FREE_FOR_JOB_SEEKERS),
]

DEMO_PATHWAYS: list[Payload] = [
    {
        "key": "vagen-mot-underskoterska",
        "owner_provider_id": "vuxenutbildning-mellanskane",
        "content": {
            "title": _text("Vägen mot undersköterska", "Toward assistant nurse"),
            "description": _text(
                "Mikromeriter som kan tillgodoräknas vid validering inom vård- och omsorgsprogrammet i "
                "kommunal "
                "vuxenutbildning. Undersköterska är en skyddad yrkestitel: vägen är ett steg mot titeln, "
                "inte en ersättning för utbildningen.",
                "Micro-credentials that can be credited at validation in the health and social care "
                "programme "
                "of municipal adult education. Assistant nurse is a protected title: the pathway is a step "
                "toward it, not a substitute for the programme."),
            "leads_to": _text("Undersköterska", "Assistant nurse"),
            "branches": ["vard-och-omsorg"],
            "micro_credential_ids": ["basala-hygienrutiner", "lakemedel-delegering", "omsorgssvenska",
                                     "forsta-hjalpen-hlr", "valfardsteknik", "social-dokumentation-ibic"],
            "rule": "at-least",
            "required": ["basala-hygienrutiner", "lakemedel-delegering"],
            "minimum": 4,
        },
    },
    {
        "key": "redo-for-lager-och-industri",
        "owner_provider_id": "verkstadsakademin-syd",
        "content": {
            "title": _text("Redo för lager och industri", "Ready for warehouse and industry"),
            "description": _text(
                "Tre korta steg från utanför arbetsmarknaden till ett första jobb i lager eller produktion.",
                "Three short steps from outside the labour market to a first job in a warehouse or "
                "production."),
            "leads_to": _text("Lagermedarbetare", "Warehouse operative"),
            "branches": ["transport-och-logistik", "industri-och-tillverkning"],
            "micro_credential_ids": ["digital-vardag-och-jobbsok", "arbetslivet-i-sverige",
                                     "truckforare-lager"],
            "rule": "all",
        },
    },
    {
        "key": "eget-foretag",
        "owner_provider_id": "nya-vagar-skane",
        "content": {
            "title": _text("Eget företag", "Own business"),
            "description": _text(
                "Från affärsidé till ett företag som syns, räknar rätt och skyddar sin information.",
                "From business idea to a company that is visible, keeps its books right and protects its "
                "data."),
            "leads_to": _text("Egenföretagare", "Self-employed business owner"),
            "branches": ["foretagande"],
            "micro_credential_ids": ["starta-eget-foretag", "ekonomi-och-bokforing", "digital-marknadsforing",
                                     "informationssakerhet-smaforetag"],
            "rule": "at-least",
            "required": ["starta-eget-foretag"],
            "minimum": 3,
        },
    },
]
