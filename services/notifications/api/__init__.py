"""The notifications service's HTTP API: subscriptions and their delivery log; for services, a
learner's records (their data export)."""

from services.notifications.api import deliveries, learners, subscriptions

ROUTERS = [subscriptions.router, deliveries.router, learners.router]
