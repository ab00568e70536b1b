"""The quality service's HTTP API: thin routes over the domain (pure) and the store."""

from services.quality.api import criteria, review_work, reviewers, reviews, statistics, transparency

ROUTERS = [criteria.router, reviewers.router, reviews.router, review_work.router, transparency.router,
           statistics.router]
