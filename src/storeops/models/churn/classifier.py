"""A gradient-boosting churn classifier on profile features, validated on a time split.

Label: a customer *churned* after a cut-off day if they made no purchase in the
next ``horizon_days``. The classifier (scikit-learn's histogram gradient
boosting) learns from features as of one cut-off and the labels that followed;
it is evaluated on a later cut-off it never saw — the way it will be used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, roc_auc_score

from storeops.contracts import FrameContractError
from storeops.models.clv.base import NotFittedError

FEATURES = (
    "orders",
    "spend_fen",
    "atv_fen",
    "coupon_share",
    "channel_count",
    "community_groups",
    "community_messages",
    "days_since_last_purchase",
    "tenure_days",
    "p_alive",
    "expected_purchases",
)


@dataclass
class ChurnReport:
    """Out-of-time quality of the classifier, with BG/NBD alone as the baseline.

    ``auc_bgnbd`` ranks customers by BG/NBD expected purchases over the horizon
    (fewer = more likely to churn). P(alive) alone ranks poorly here because every
    one-time buyer has P(alive) = 1 under BG/NBD.
    """

    auc: float
    auc_bgnbd: float
    brier: float
    base_rate: float
    train_customers: int
    test_customers: int
    calibration: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Mean predicted vs observed churn per decile of predicted risk."""
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, bins):
        if len(chunk):
            out.append(
                {
                    "predicted": round(float(p[chunk].mean()), 4),
                    "observed": round(float(y[chunk].mean()), 4),
                    "customers": len(chunk),
                }
            )
    return out


class ChurnModel:
    """``fit(train) -> self``; ``evaluate(test)``; ``expected_churn_probability(frame)``."""

    name = "churn classifier"

    def __init__(self, random_state: int = 0) -> None:
        self._clf = HistGradientBoostingClassifier(
            max_iter=200,
            learning_rate=0.05,
            max_leaf_nodes=15,
            l2_regularization=1.0,
            random_state=random_state,
        )
        self.fitted = False

    @staticmethod
    def _x(frame: pd.DataFrame) -> np.ndarray:
        missing = [c for c in FEATURES if c not in frame.columns]
        if missing:
            raise FrameContractError(
                f"the churn model needs feature columns {missing}; build them with "
                "storeops.marts.churn_scores.features()"
            )
        return frame[list(FEATURES)].to_numpy(dtype="float64")

    def fit(self, train: pd.DataFrame) -> ChurnModel:
        y = train["churned"].to_numpy(dtype=int)
        if len(np.unique(y)) < 2:
            raise FrameContractError(
                "the training period has only churned or only retained customers; use a "
                "longer history or another horizon"
            )
        self._clf.fit(self._x(train), y)
        self.fitted = True
        return self

    def expected_churn_probability(self, frame: pd.DataFrame) -> np.ndarray:
        if not self.fitted:
            raise NotFittedError(f"{self.name}: call fit(train) first")
        return self._clf.predict_proba(self._x(frame))[:, 1]

    def evaluate(self, train_size: int, test: pd.DataFrame) -> ChurnReport:
        y = test["churned"].to_numpy(dtype=int)
        p = self.expected_churn_probability(test)
        return ChurnReport(
            auc=float(roc_auc_score(y, p)),
            auc_bgnbd=float(roc_auc_score(y, -test["expected_purchases"].to_numpy())),
            brier=float(brier_score_loss(y, p)),
            base_rate=float(y.mean()),
            train_customers=train_size,
            test_customers=len(test),
            calibration=calibration_table(y, p),
        )
