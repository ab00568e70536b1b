"""Shared plumbing for every MIMIS service: settings, event envelope, contracts, outbox,
consumer loop, telemetry, logging and health. It holds no business rules."""
