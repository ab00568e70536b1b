from services.issuance.api import internal, learners, providers, public

ROUTERS = [providers.router, learners.router, public.router, internal.router]
