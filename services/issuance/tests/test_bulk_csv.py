"""Bulk issuance from a CSV file: hundreds of rows, a per-row report, all or nothing."""

from __future__ import annotations

from typing import Any

from services.issuance.tests.conftest import IssuanceUnderTest

HEADER = "micro_credential_id;version;learner_name;learner_email;personal_identity_number;language;assessed_on\n"


def csv_file(mc: str, count: int, broken: dict[int, str] | None = None) -> bytes:
    lines = [HEADER]
    for i in range(1, count + 1):
        line = f"{mc};1;Deltagare {i};deltagare{i}@example.se;;sv;2026-11-20\n"
        lines.append((broken or {}).get(i, line))
    return "".join(lines).encode()


async def upload(issuance: IssuanceUnderTest, content: bytes, **params: Any) -> Any:
    return await issuance.http.post(f"/v1/providers/{issuance.provider_id}/credentials/bulk",
                                    headers=issuance.staff(), params=params,
                                    files={"file": ("resultat.csv", content, "text/csv")})


async def test_a_file_with_bad_rows_issues_nothing_and_says_why_for_each_row(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    mc = issuance.micro_credential_id
    broken = {
        7: f"{mc};1;Deltagare 7;not-an-address;;sv;2026-11-20\n",
        42: f"{mc};3;Deltagare 42;d42@example.se;;sv;2026-11-20\n",
        99: f"{mc};1;Deltagare 99;d99@example.se;19900517-1230;sv;2026-11-20\n",
        150: f"{mc};1;Deltagare 150;deltagare1@example.se;;sv;2026-11-20\n",
        200: f"{mc};1;Deltagare 200;d200@example.se;;de;20.11.2026\n",
    }
    answer = await upload(issuance, csv_file(mc, 300, broken))
    assert answer.status_code == 422, answer.text
    report = answer.json()
    assert report["issued"] == 0 and report["failed"] == 5 and len(report["rows"]) == 300
    failures = {r["row"]: r["errors"][0] for r in report["rows"] if not r["ok"]}
    assert set(failures) == set(broken)
    assert "e-mail" in failures[7]
    assert "version 3 is not published" in failures[42]
    assert "personal identity number is not valid" in failures[99] and "1230" not in failures[99]
    assert "as row 1" in failures[150]
    assert "YYYY-MM-DD" in failures[200]
    assert await issuance.service.store.credentials.count_documents({}) == 0
    assert await issuance.app.state.runtime.db["outbox"].count_documents({}) == 0


async def test_a_good_file_issues_every_row_at_once(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    content = csv_file(issuance.micro_credential_id, 300)
    dry = await upload(issuance, content, dry_run="true")
    assert dry.status_code == 200 and dry.json()["failed"] == 0 and dry.json()["issued"] == 0
    assert await issuance.service.store.credentials.count_documents({}) == 0
    answer = await upload(issuance, content)
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert report["issued"] == 300 and all(r["ok"] and r["credential_id"] for r in report["rows"])
    store = issuance.service.store
    assert await store.credentials.count_documents({}) == 300
    assert await store.learners.count_documents({}) == 300
    outbox = issuance.app.state.runtime.db["outbox"]
    assert await outbox.count_documents({"type": "issuance.credential.issued.v1"}) == 300
    indexes = [d["status_index"] async for d in store.credentials.find({}, {"status_index": 1})]
    assert len(set(indexes)) == 300 and sorted(indexes) != indexes  # distinct, not in issue order


async def test_a_file_that_cannot_be_read_is_refused_as_a_whole(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    missing = await upload(issuance, b"name,email\nA,a@example.se\n")
    assert missing.status_code == 422 and missing.json()["error"] == "validation_failed"
    assert "micro_credential_id" in missing.json()["message"]
    assert (await upload(issuance, b"micro_credential_id;version;learner_name;learner_email\n")
            ).status_code == 422
    assert (await upload(issuance, b"\xff\xfe\x00garbage")).status_code == 422
    too_many = csv_file(issuance.micro_credential_id, issuance.settings.bulk_max_rows + 1)
    refused = await upload(issuance, too_many)
    assert refused.status_code == 422 and "at most" in refused.json()["message"]
