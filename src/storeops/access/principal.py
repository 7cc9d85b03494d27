"""Who is asking: a logged-in user or an API key, with its role and store scope."""

from __future__ import annotations

from dataclasses import dataclass

from storeops.access.roles import STORE_SCOPED, Permission, permissions
from storeops.errors import StoreOpsError


class AccessError(StoreOpsError, PermissionError):
    """Not allowed (HTTP 403)."""


class NotVisibleError(StoreOpsError, LookupError):
    """The object is outside the principal's stores; reported as not found (HTTP 404)."""


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" or "api_key"
    id: str
    role: str
    stores: frozenset[str] | None  # None = every store

    @classmethod
    def of(cls, kind: str, id: str, role: str, stores: frozenset[str] = frozenset()) -> Principal:
        scoped = role in STORE_SCOPED
        if scoped and not stores:
            raise AccessError(f"a {role} must be limited to at least one store")
        return cls(kind, id, role, frozenset(stores) if scoped else None)

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions(self.role)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def sees_store(self, store_id: str | None) -> bool:
        """True for every store when unscoped; a scoped principal sees only its own
        stores (an object without a store is not theirs)."""
        return self.stores is None or (store_id is not None and store_id in self.stores)

    def require(self, permission: Permission, store_id: str | None = None,
                *, what: str = "that") -> None:  # fmt: skip
        """Raise unless allowed: :class:`NotVisibleError` for another store's object
        (checked first, so a forbidden object never reveals that it exists), else
        :class:`AccessError` without the permission."""
        if store_id is not None and not self.sees_store(store_id):
            raise NotVisibleError(f"{what} was not found")
        if not self.can(permission):
            raise AccessError(f"the {self.role} role may not {permission.value.replace(':', ' ')}")

    @property
    def sees_pii(self) -> bool:
        return self.can(Permission.PII_READ)
