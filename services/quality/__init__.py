"""Quality service: reviews of micro-credentials against published criteria, decisions, audit trail."""
