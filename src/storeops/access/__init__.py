"""Users, roles, API keys and object-level access.

Public API: :class:`Principal` (who is asking; ``require`` / ``can`` / ``sees_store``),
the role registry (:data:`ROLES`, :class:`Permission`), users (:func:`create_user`,
:func:`authenticate`, :func:`disable_user`) and API keys (:func:`create_key`,
:func:`verify_key`, :func:`revoke_key`).
"""

from storeops.access.api_keys import ApiKeyError, create_key, list_keys, revoke_key, verify_key
from storeops.access.principal import AccessError, NotVisibleError, Principal
from storeops.access.roles import ROLES, STORE_SCOPED, Permission
from storeops.access.users import (
    LoginError,
    UserError,
    authenticate,
    create_user,
    disable_user,
    list_users,
    set_stores,
)

__all__ = [
    "ROLES",
    "STORE_SCOPED",
    "AccessError",
    "ApiKeyError",
    "LoginError",
    "NotVisibleError",
    "Permission",
    "Principal",
    "UserError",
    "authenticate",
    "create_key",
    "create_user",
    "disable_user",
    "list_keys",
    "list_users",
    "revoke_key",
    "set_stores",
    "verify_key",
]
