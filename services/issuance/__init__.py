"""Issuance service. Issued credentials, signing keys and status lists (domain arrives with the issuance issue)."""
