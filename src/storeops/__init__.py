"""storeops: the operations platform for retail merchants."""

from storeops.errors import StoreOpsError

__version__ = "0.1.0"

__all__ = ["StoreOpsError", "__version__"]
