"""Churn risk: who is about to stop buying."""

from storeops.models.churn.classifier import ChurnModel, ChurnReport

__all__ = ["ChurnModel", "ChurnReport"]
