"""The learner's side on the real stack: own credentials, downloads, share links, the recipient
look-up notifications uses, and erasure of personal data (the fact of issuance stays)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.issuance.tests.conftest import IssuanceUnderTest, jws_payload

EMAIL = "Maja.Berg@Example.se"
PIN = "19900517-1237"


async def test_learners_see_download_and_share_their_own_credentials(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    mine = await issuance.issue(EMAIL)
    await issuance.issue("someone.else@example.se")
    me = issuance.learner("maja.berg@example.se")  # identity provider with a verified e-mail address
    listed = (await issuance.http.get("/v1/me/credentials", headers=me)).json()
    assert [c["credential_id"] for c in listed["items"]] == [mine["credential_id"]]
    cid = mine["credential_id"]
    jws = await issuance.http.get(f"/v1/me/credentials/{cid}/download", params={"format": "jws"}, headers=me)
    assert jws.status_code == 200 and jws.headers["content-type"].startswith("application/vc+jwt")
    assert jws_payload(jws.text)["jti"] == cid
    document = await issuance.http.get(f"/v1/me/credentials/{cid}/download", headers=me)
    assert document.json()["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    stranger = issuance.learner("someone.else@example.se")
    assert (await issuance.http.get(f"/v1/me/credentials/{cid}/download", headers=stranger)).status_code == 404

    share = await issuance.http.post(f"/v1/me/credentials/{cid}/shares", json={"expires_in_days": 10}, headers=me)
    assert share.status_code == 201, share.text
    token = share.json()["token"]
    assert share.json()["url"] == f"https://issuance.test/verify?share={token}"  # the page for people
    opened = await issuance.http.get(f"/v1/shared/{token}")
    assert opened.status_code == 200 and opened.json()["credential"]["id"] == cid
    assert (await issuance.verify(opened.json()["credential"]))["verified"]
    assert (await issuance.http.delete(f"/v1/me/shares/{token}", headers=stranger)).status_code == 404
    assert (await issuance.http.delete(f"/v1/me/shares/{token}", headers=me)).status_code == 204
    withdrawn = await issuance.http.get(f"/v1/shared/{token}")
    assert withdrawn.status_code == 410 and withdrawn.json()["error"] == "gone"
    assert (await issuance.http.get("/v1/shared/no-such-token")).status_code == 404


async def test_a_learner_logged_in_with_a_personal_identity_number_finds_credentials_by_its_lookup_value(
        issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    payload = {"micro_credential_id": issuance.micro_credential_id, "version": 1,
               "learner": {"name": "Maja Berg", "email": EMAIL, "personal_identity_number": PIN}}
    answer = await issuance.http.post(f"/v1/providers/{issuance.provider_id}/credentials", json=payload,
                                      headers=issuance.staff())
    assert answer.status_code == 201, answer.text
    learner = await issuance.service.store.learners.find_one({})
    assert learner is not None
    assert PIN.replace("-", "") not in str(learner) and "9005171237" not in str(learner)
    assert learner["pin_lookup"].startswith("hmac-sha256$")
    listed = (await issuance.http.get("/v1/me/credentials", headers=issuance.learner("199005171237"))).json()
    assert [c["credential_id"] for c in listed["items"]] == [answer.json()["credential_id"]]
    full = await issuance.full(answer.json()["credential_id"])
    assert "9005171237" not in full["jws"] and "9005171237" not in str(full["credential"])


async def test_the_recipient_look_up_answers_services_only_and_says_gone_after_erasure(
        issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    summary = await issuance.issue(EMAIL, learner={"name": "Maja Berg", "email": EMAIL, "language": "en"})
    cid = summary["credential_id"]
    url = f"/v1/internal/credentials/{cid}/recipient"
    assert (await issuance.http.get(url, headers=issuance.staff())).status_code == 403
    answer = await issuance.http.get(url, headers=issuance.service_token)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body == {"learner_ref": summary["learner_ref"], "email": "maja.berg@example.se", "name": "Maja Berg",
                    "language": "en", "share_url": body["share_url"]}
    assert body["share_url"].startswith("https://issuance.test/verify?share=")
    assert (await issuance.http.get(url, headers=issuance.service_token)).json()["share_url"] == body["share_url"]
    token = body["share_url"].rsplit("share=", 1)[1]
    shared = await issuance.http.get(f"/v1/shared/{token}")  # what the page asks for, through the gateway
    assert shared.status_code == 200
    assert (await issuance.http.get("/v1/internal/credentials/urn:uuid:nope/recipient",
                                    headers=issuance.service_token)).status_code == 404

    full = await issuance.full(cid)
    store = issuance.service.store
    # erased or scrubbed: the learner record, the credential and the share link made for the e-mail
    assert await store.erase_learner(summary["learner_ref"], datetime.now(UTC)) == 3
    gone = await issuance.http.get(url, headers=issuance.service_token)
    assert gone.status_code == 410 and gone.json()["error"] == "erased"
    learner = await store.learners.find_one({"_id": summary["learner_ref"]})
    assert learner is not None and set(learner) == {"_id", "erased_at"}
    kept = await store.credentials.find_one({"_id": cid})
    assert kept is not None and kept["erased"] and "jws" not in kept and "document" not in kept
    assert (kept["micro_credential_id"], kept["status_index"]) == (issuance.micro_credential_id,
                                                                  int(full["credential"]["credentialStatus"][0]
                                                                      ["statusListIndex"]))
    everything = str([d async for d in store.credentials.find({})]) + str([d async for d in store.learners.find({})])
    assert "maja" not in everything.lower() and "Berg" not in everything
    assert (await issuance.http.get(f"/v1/shared/{token}")).status_code == 410
    # A copy the learner kept still verifies honestly: signature, status, catalogue version.
    assert (await issuance.verify(full["jws"]))["verified"]
    revoke = await issuance.http.post(f"/v1/credentials/{cid}/revocation", headers=issuance.staff(),
                                      json={"reason": "Utfärdat i misstag"})
    assert revoke.status_code == 200
    result = await issuance.verify(full["jws"])
    assert not result["verified"] and any("Utfärdat i misstag" in r for r in result["reasons"])
