"""The HTTP API: one FastAPI app, one router per resource.

>>> from storeops.api import create_app
>>> app = create_app(open_workspace("shop"))      # uvicorn.run(app) or `storeops serve`
"""

from __future__ import annotations

from storeops.api.app import ROUTE_MODULES, create_app

__all__ = ["ROUTE_MODULES", "create_app"]
