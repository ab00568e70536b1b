"""Notifications service. Subscriptions, webhook and e-mail deliveries (domain arrives with the notifications issue)."""
