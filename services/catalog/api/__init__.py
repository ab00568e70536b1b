"""The catalog's HTTP API: thin routes over the domain (pure) and the store."""

from services.catalog.api import micro_credentials, pathways, providers, vocabulary

ROUTERS = [providers.router, micro_credentials.provider_router, micro_credentials.router, pathways.router,
           vocabulary.router]
