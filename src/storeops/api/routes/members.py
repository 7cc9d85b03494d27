"""Members over HTTP: ``POST /api/members`` (enrol), ``GET /api/members/{id}``,
``GET /api/members/lookup?phone=``.

A member belongs to their enrolment store. Store-scoped callers (tills, store
managers) see and enrol only members of their stores; another store's member answers
404, as if it did not exist. Phone and WeChat id are shown in clear only to roles with
``pii:read``; everyone else gets them masked. The enrolment body is strict: fields
such as ``tier``, ``status`` or a balance cannot be set by a client.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from storeops.access import NotVisibleError, Permission, Principal
from storeops.api.auth import OpsEngineDep, requires
from storeops.api.deps import get_workspace
from storeops.api.errors import ERROR_RESPONSES
from storeops.errors import ConfigError
from storeops.loyalty.members import (
    MemberError,
    PiiKeys,
    enrol,
    find_by_phone,
    member_view,
)
from storeops.privacy.crypto import blind_index_from, cipher_from

router = APIRouter(prefix="/api/members", tags=["members"], responses=ERROR_RESPONSES)

Reader = Annotated[Principal, Depends(requires(Permission.MEMBERS_READ))]
Writer = Annotated[Principal, Depends(requires(Permission.MEMBERS_WRITE))]


class MemberCreate(BaseModel):
    """What a till or a manager may set when enrolling a member."""

    model_config = ConfigDict(extra="forbid")

    member_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    store_id: str = Field(min_length=1, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    wechat_id: str | None = Field(default=None, max_length=128)
    birthday: date | None = None
    associate_id: str | None = Field(default=None, max_length=64)
    channel: str = Field(default="store", pattern="^(store|mini_program|online|import)$")


def _keys(request: Request) -> PiiKeys:
    settings = get_workspace(request).settings
    try:
        return PiiKeys(cipher_from(settings), blind_index_from(settings))
    except ConfigError as exc:
        raise HTTPException(503, f"personal data is not configured here: {exc}") from None


def _visible(engine: Any, principal: Principal, member_id: str, keys: PiiKeys) -> dict[str, Any]:
    try:
        view = member_view(engine, member_id, keys=keys, reveal=principal.sees_pii)
    except MemberError:
        raise NotVisibleError(f"member {member_id} was not found") from None
    if not principal.sees_store(view["store_id"]):
        raise NotVisibleError(f"member {member_id} was not found")
    return view


@router.post("", status_code=201)
def create(body: MemberCreate, who: Writer, engine: OpsEngineDep, request: Request) -> Any:
    """Enrol a member at a store (idempotent for the same member id)."""
    who.require(Permission.MEMBERS_WRITE, body.store_id, what=f"store {body.store_id}")
    keys = _keys(request)
    try:
        enrol(
            engine, body.member_id, store_id=body.store_id, phone=body.phone,
            wechat_id=body.wechat_id, birthday=body.birthday, associate_id=body.associate_id,
            via=body.channel, keys=keys,
        )  # fmt: skip
    except MemberError as exc:
        raise HTTPException(422, str(exc)) from None
    return _visible(engine, who, body.member_id, keys)


@router.get("/lookup")
def lookup(
    who: Reader,
    engine: OpsEngineDep,
    request: Request,
    phone: Annotated[str, Query(min_length=7, max_length=32)],
) -> Any:
    """The member with this phone number, within the caller's stores."""
    keys = _keys(request)
    try:
        member_id = find_by_phone(engine, phone, keys)
    except MemberError as exc:
        raise HTTPException(422, str(exc)) from None
    if member_id is None:
        raise NotVisibleError("no member with that phone number was found")
    return _visible(engine, who, member_id, keys)


@router.get("/{member_id}")
def read(member_id: str, who: Reader, engine: OpsEngineDep, request: Request) -> Any:
    """One member (personal data masked without pii:read)."""
    return _visible(engine, who, member_id, _keys(request))
