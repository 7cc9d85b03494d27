"""KPI goals: targets with baselines and deadlines, per store or for the chain, and
their pacing (expected value on the straight path, projected end value, status)."""

from storeops.goals.pacing import Status, expected_value, projected_value, status_of
from storeops.goals.service import (
    WINDOW_DAYS,
    Goal,
    GoalCreate,
    GoalError,
    GoalStatus,
    add_goal,
    goal_status,
    list_goals,
    pace,
    remove_goal,
)

__all__ = [
    "WINDOW_DAYS",
    "Goal",
    "GoalCreate",
    "GoalError",
    "GoalStatus",
    "Status",
    "add_goal",
    "expected_value",
    "goal_status",
    "list_goals",
    "pace",
    "projected_value",
    "remove_goal",
    "status_of",
]
