"""Customer lifetime value models, one per file, each ``fit(data) -> self`` with
``expected_*`` predictions:

- :class:`BetaGeoModel` (BG/NBD) — purchase counts and P(alive), continuous time;
- :class:`GammaGammaModel` — spend per transaction;
- :class:`BetaGeoBetaBinomModel` (BG/BB) — discrete-period data;
- :func:`expected_clv` — discounted lifetime value from the two above.
"""

from storeops.models.clv.base import FitResult, ModelFitError, NotFittedError
from storeops.models.clv.bgbb import BetaGeoBetaBinomModel
from storeops.models.clv.bgnbd import BetaGeoModel
from storeops.models.clv.gamma_gamma import GammaGammaModel
from storeops.models.clv.value import expected_clv

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "FitResult",
    "GammaGammaModel",
    "ModelFitError",
    "NotFittedError",
    "expected_clv",
]
