"""Catalog service: providers and micro-credential definitions, their versions and lifecycle."""
