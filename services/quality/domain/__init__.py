"""The quality board's rules, pure (no I/O): criteria, checklists, the decision rule, reviews
round by round, conflict of interest, the public summary and the board's figures."""
