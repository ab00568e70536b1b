"""E-mail texts in Swedish and English: a learner's new credential, a provider's review
outcome, and the notice that a webhook endpoint was disabled. Plain text, one message per
template and language; the caller supplies every value (nothing here looks anything up)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Language = Literal["sv", "en"]
LANGUAGES: tuple[Language, ...] = ("sv", "en")


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


def language_of(value: str | None, default: Language = "sv") -> Language:
    return "en" if value == "en" else "sv" if value == "sv" else default


def _title(title: Mapping[str, str], language: Language) -> str:
    return title.get(language) or title.get("sv") or next(iter(title.values()), "")


def new_credential(language: Language, *, name: str, title: Mapping[str, str], share_url: str,
                   issued_at: str) -> Mail:
    t = _title(title, language)
    if language == "sv":
        return Mail(
            subject=f"Ditt nya mikromeritbevis: {t}",
            body=f"Hej {name},\n\nDu har fått ett digitalt bevis på mikromeriten \"{t}\" ({issued_at[:10]}).\n\n"
                 f"Visa och dela beviset här:\n{share_url}\n\n"
                 "Beviset är signerat, så den du delar det med kan själv kontrollera att det är äkta.\n\n"
                 "Hälsningar\nMikromeriter i Skåne\n",
        )
    return Mail(
        subject=f"Your new micro-credential: {t}",
        body=f"Hello {name},\n\nYou have received a digital credential for the micro-credential \"{t}\" "
             f"({issued_at[:10]}).\n\nView and share it here:\n{share_url}\n\n"
             "The credential is signed, so whoever you share it with can check for themselves that it is genuine.\n\n"
             "Regards\nMicro-credentials in Skåne\n",
    )


_DECISIONS = {
    "sv": {"approve": "godkänd", "request-changes": "behöver ändras", "reject": "avslagen"},
    "en": {"approve": "approved", "request-changes": "changes requested", "reject": "rejected"},
}


def review_outcome(language: Language, *, provider_name: str, micro_credential_id: str, version: int,
                   decision: str, comments: Sequence[str], reason: str | None, reviewing_body: str) -> Mail:
    outcome = _DECISIONS[language].get(decision, decision)
    listed = "".join(f"- {c}\n" for c in comments)
    if language == "sv":
        body = (f"Hej {provider_name},\n\n{reviewing_body} har granskat version {version} av mikromeriten "
                f"{micro_credential_id}.\n\nBeslut: {outcome}\n")
        if reason:
            body += f"\nMotivering:\n{reason}\n"
        if listed:
            body += f"\nGranskarnas kommentarer:\n{listed}"
        if decision == "request-changes":
            body += "\nÄndra utkastet i katalogen och skicka in det igen när du är klar.\n"
        return Mail(f"Granskningen är klar: {micro_credential_id} v{version} {outcome}",
                    body + "\nHälsningar\nMikromeriter i Skåne\n")
    body = (f"Hello {provider_name},\n\n{reviewing_body} has reviewed version {version} of the micro-credential "
            f"{micro_credential_id}.\n\nDecision: {outcome}\n")
    if reason:
        body += f"\nReason:\n{reason}\n"
    if listed:
        body += f"\nThe reviewers' comments:\n{listed}"
    if decision == "request-changes":
        body += "\nEdit the draft in the catalogue and submit it again when you are ready.\n"
    return Mail(f"Review complete: {micro_credential_id} v{version} {outcome}",
                body + "\nRegards\nMicro-credentials in Skåne\n")


def bilingual(sv: Mail, en: Mail) -> Mail:
    """One message for a reader whose language is not known: Swedish first, then English."""
    return Mail(f"{sv.subject} / {en.subject}", f"{sv.body}\n-- In English --\n\n{en.body}")


def webhook_disabled(language: Language, *, subscription_id: str, url: str, failures: int, reason: str) -> Mail:
    if language == "sv":
        return Mail(
            subject=f"Webhook avstängd: {url}",
            body=f"Hej,\n\nWebhooken {subscription_id} till {url} har stängts av efter {failures} misslyckade "
                 f"leveransförsök i följd.\nSenaste fel: {reason}\n\nInga nya händelser skickas dit. När mottagaren "
                 "fungerar igen kan du slå på webhooken (PATCH /subscriptions/{id} med \"enabled\": true); "
                 "leveranser som väntade skickas då.\n\nHälsningar\nMikromeriter i Skåne\n",
        )
    return Mail(
        subject=f"Webhook disabled: {url}",
        body=f"Hello,\n\nThe webhook {subscription_id} to {url} was disabled after {failures} failed delivery "
             f"attempts in a row.\nLast error: {reason}\n\nNo new events are sent to it. When the receiver works "
             "again, enable the webhook (PATCH /subscriptions/{id} with \"enabled\": true); deliveries that were "
             "waiting are then sent.\n\nRegards\nMicro-credentials in Skåne\n",
    )
