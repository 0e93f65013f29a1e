"""Batch evaluation above the registry: plans of many (solution, data, recipe) runs and their leaderboards.

See solutions/batch/plan.py for the plan's keys.
"""

from solutions.batch.plan import read_plan, run_plan, validate_plan

__all__ = ["read_plan", "run_plan", "validate_plan"]
