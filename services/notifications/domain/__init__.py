"""The notifications service's rules, pure (no I/O): subscriptions and their filters, which
addresses a webhook may reach, the retry policy, and the e-mail templates."""
