"""Roles and what each may do: one registry, read by the API, the dashboard and the CLI.

| role | may |
|---|---|
| owner | everything, including users and keys |
| admin | everything but ownership: users, keys, programs, members, PII |
| analyst | read analytics and members, never raw personal data |
| marketer | analytics, members (masked), promotions and coupons, campaigns |
| store_manager | members, points, stored value and reports of their own stores (PII masked) |
| pos | a till: quote, commit and refund for its one store; look up members by phone |

Store-scoped roles (``store_manager``, ``pos``) see only their stores; asking for an
object of another store answers *not found*, so its existence does not leak.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    ANALYTICS_READ = "analytics:read"
    MEMBERS_READ = "members:read"
    MEMBERS_WRITE = "members:write"
    PII_READ = "pii:read"
    VALUE_WRITE = "value:write"
    PROMOTIONS_WRITE = "promotions:write"
    COUPONS_REDEEM = "coupons:redeem"
    POS_TRANSACT = "pos:transact"
    REPORTS_READ = "reports:read"
    USERS_ADMIN = "users:admin"
    PRIVACY_ADMIN = "privacy:admin"


P = Permission
_ALL = frozenset(Permission)

#: Permissions per role.
ROLES: dict[str, frozenset[Permission]] = {
    "owner": _ALL,
    "admin": _ALL,
    "analyst": frozenset({P.ANALYTICS_READ, P.MEMBERS_READ, P.REPORTS_READ}),
    "marketer": frozenset({P.ANALYTICS_READ, P.MEMBERS_READ, P.REPORTS_READ, P.PROMOTIONS_WRITE}),
    "store_manager": frozenset(
        {
            P.ANALYTICS_READ,
            P.MEMBERS_READ,
            P.MEMBERS_WRITE,
            P.VALUE_WRITE,
            P.COUPONS_REDEEM,
            P.REPORTS_READ,
        }
    ),
    "pos": frozenset(
        {P.MEMBERS_READ, P.MEMBERS_WRITE, P.VALUE_WRITE, P.COUPONS_REDEEM, P.POS_TRANSACT}
    ),
}

#: Roles limited to their stores.
STORE_SCOPED = frozenset({"store_manager", "pos"})
#: Roles people log in with (``pos`` is for API keys only).
USER_ROLES = tuple(r for r in ROLES if r != "pos")
#: Roles API keys can carry (every role: scripts act for people too).
KEY_ROLES = tuple(ROLES)


def permissions(role: str) -> frozenset[Permission]:
    try:
        return ROLES[role]
    except KeyError:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}") from None
