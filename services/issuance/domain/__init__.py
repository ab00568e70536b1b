"""The issuance service's pure core: no database, no broker, no network.

- :mod:`credential` builds the unsigned Open Badges 3.0 ``AchievementCredential`` (VC 2.0) for
  one learner from the exact catalogue version, its EU elements on the achievement;
  :mod:`learner` says how the learner is named on it (never by personal identity number).
- :mod:`data_integrity` signs and verifies Data Integrity proofs (``eddsa-rdfc-2022``, the
  default, and ``eddsa-jcs-2022``); :mod:`vc_jose` the compact JWS form. Both reproduce or
  accept what independent implementations produce (see ``tests/test_independent.py``).
- :mod:`jsonld` canonicalizes with the contexts in ``services/issuance/contexts`` only.
- :mod:`keys`: Ed25519 signing keys, the key ring with rotation, the ``did:web`` DID document
  and the JWKS.
- :mod:`status_list`: Bitstring Status List allocation, encoding and reading.
- :mod:`verifier` answers "is this credential good?" as named checks (:mod:`verification`).

Costs measured here (pure Python, one core): building a credential about 0.4 ms, a JWS 0.4 ms,
an eddsa-rdfc-2022 proof about 40 ms (20 ms with ``check_terms=False``; pyld's JSON-LD
expansion dominates), verifying one about 40 ms, a JWS under 1 ms. Bulk issuance should sign in a process pool
or sign the JWS first and add the Data Integrity proof off the hot path.
"""
