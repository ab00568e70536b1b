from services.issuance.api import internal, learners, privacy, providers, public

ROUTERS = [providers.router, learners.router, privacy.router, public.router, internal.router]
