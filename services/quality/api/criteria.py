"""The published review criteria (public: anyone may read what micro-credentials are judged by)."""

from __future__ import annotations

from fastapi import APIRouter

from mimis_platform.api_errors import NotFound
from services.quality.api.deps import SettingsDep
from services.quality.api.models import CriteriaSetPublic
from services.quality.domain.criteria import PUBLISHED, criteria_set

router = APIRouter(prefix="/criteria", tags=["criteria"])


@router.get("", response_model=CriteriaSetPublic, summary="The criteria new reviews use")
async def current(settings: SettingsDep) -> CriteriaSetPublic:
    return CriteriaSetPublic.of(PUBLISHED[settings.criteria_version], current=True)


@router.get("/{version}", response_model=CriteriaSetPublic, responses={404: {}},
            summary="One published version of the criteria (what an older review was judged by)")
async def by_version(version: str, settings: SettingsDep) -> CriteriaSetPublic:
    found = criteria_set(version)
    if found is None:
        raise NotFound(f"no criteria version {version!r}; published: {', '.join(PUBLISHED)}")
    return CriteriaSetPublic.of(found, current=version == settings.criteria_version)
