"""The notifications service's HTTP API: subscriptions and their delivery log."""

from services.notifications.api import deliveries, subscriptions

ROUTERS = [subscriptions.router, deliveries.router]
