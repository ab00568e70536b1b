"""How the quality service's domain objects are stored as MongoDB documents, and back."""

from __future__ import annotations

from datetime import UTC, datetime

from mimis_platform.mongo import Document
from services.quality.domain.checklist import Checklist, ChecklistItem, Mark
from services.quality.domain.decision import Decision, Verdict
from services.quality.domain.review import (
    Assignment,
    AuditEntry,
    Outcome,
    PreviousRound,
    Review,
    ReviewStatus,
    Submission,
)
from services.quality.domain.reviewers import Reviewer


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def now_as_stored() -> datetime:
    """The current moment at the precision BSON dates keep (milliseconds), so what a command
    returns equals what a later read returns."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def time_key(moment: datetime) -> str:
    """A fixed-width UTC text that sorts as the moment does (for single-field keyset cursors), in
    milliseconds: BSON dates keep no more, and a key recomputed from a read must equal the stored one."""
    moment = utc(moment)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def queue_key(review: Review) -> str:
    # Due date first, then id: the queue's order, and a cursor that is one plain field (the
    # local database uses an index only for plain-field queries, never for a top-level $or).
    return f"{time_key(review.due_at)}|{review.id}"


def review_doc(r: Review) -> Document:
    s, o, p = r.submission, r.outcome, r.previous_round
    return {
        "_id": r.id, "micro_credential_id": s.micro_credential_id, "version": s.version, "round": r.round,
        "provider_id": s.provider_id, "provider_kind": s.provider_kind, "provider_name": s.provider_name,
        "branches": list(s.branches), "eqf": s.eqf, "content": dict(s.content), "submitted_at": s.submitted_at,
        "criteria_version": r.criteria_version, "required_approvals": r.required_approvals,
        "status": r.status.value, "opened_at": r.opened_at, "due_at": r.due_at, "sort_key": queue_key(r),
        "assigned_reviewers": [a.reviewer for a in r.assignments],
        "assignments": [{"reviewer": a.reviewer, "display_name": a.display_name, "assigned_at": a.assigned_at,
                         "assigned_by": a.assigned_by} for a in r.assignments],
        "checklists": [{"reviewer": c.reviewer, "updated_at": c.updated_at,
                        "items": [{"criterion": i.criterion, "mark": i.mark.value, "comment": i.comment}
                                  for i in c.items]} for c in r.checklists],
        "verdicts": [{"reviewer": v.reviewer, "decision": v.decision.value, "comments": list(v.comments),
                      "reason": v.reason, "at": v.at} for v in r.verdicts],
        "outcome": None if o is None else {
            "decision": o.decision.value, "comments": list(o.comments), "reason": o.reason,
            "decided_at": o.decided_at, "reviewing_body": o.reviewing_body},
        "decided_at": o.decided_at if o else None,  # top level: the statistics' index
        "previous_round": None if p is None else {
            "review_id": p.review_id, "round": p.round, "decision": p.decision.value, "comments": list(p.comments),
            "reason": p.reason, "decided_at": p.decided_at},
        "revision": r.revision,
    }


def review_of(d: Document) -> Review:
    o, p = d.get("outcome"), d.get("previous_round")
    return Review(
        id=d["_id"],
        submission=Submission(d["micro_credential_id"], d["version"], d["provider_id"], d["provider_kind"],
                              d["provider_name"], d["content"], utc(d["submitted_at"])),
        criteria_version=d["criteria_version"], required_approvals=d["required_approvals"], round=d["round"],
        status=ReviewStatus(d["status"]), opened_at=utc(d["opened_at"]), due_at=utc(d["due_at"]),
        assignments=tuple(Assignment(a["reviewer"], a["display_name"], utc(a["assigned_at"]), a["assigned_by"])
                          for a in d.get("assignments", ())),
        checklists=tuple(
            Checklist(c["reviewer"], tuple(ChecklistItem(i["criterion"], Mark(i["mark"]), i.get("comment"))
                                           for i in c["items"]), utc(c["updated_at"]))
            for c in d.get("checklists", ())),
        verdicts=tuple(Verdict(v["reviewer"], Decision(v["decision"]), tuple(v.get("comments") or ()), v.get("reason"),
                               utc(v["at"])) for v in d.get("verdicts", ())),
        outcome=None if not o else Outcome(Decision(o["decision"]), tuple(o.get("comments") or ()), o.get("reason"),
                                           utc(o["decided_at"]), o["reviewing_body"]),
        previous_round=None if not p else PreviousRound(p["review_id"], p["round"], Decision(p["decision"]),
                                                        tuple(p.get("comments") or ()), p.get("reason"),
                                                        utc(p["decided_at"])),
        revision=d.get("revision", 0),
    )


def reviewer_doc(r: Reviewer) -> Document:
    return {"_id": r.subject, "display_name": r.display_name, "organisations": list(r.organisations),
            "active": r.active, "registered_at": r.registered_at, "updated_at": r.updated_at}


def reviewer_of(d: Document) -> Reviewer:
    return Reviewer(d["_id"], d["display_name"], tuple(d.get("organisations") or ()), d.get("active", True),
                    utc(d["registered_at"]), utc(d["updated_at"]))


def audit_doc(e: AuditEntry, position: str) -> Document:
    return {"position": position, "action": e.action, "actor": e.actor, "at": e.at, "review_id": e.review_id,
            "micro_credential_id": e.micro_credential_id, "version": e.version, "round": e.round,
            "details": dict(e.details)}


def audit_of(d: Document) -> AuditEntry:
    return AuditEntry(d["action"], d["actor"], utc(d["at"]), d.get("review_id"), d.get("micro_credential_id"),
                      d.get("version"), d.get("round"), d.get("details") or {})

