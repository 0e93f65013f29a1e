"""Credit scoring: probability of default, scorecard points, reason codes, costs and stability checks."""

from solutions.credit_scoring.solution import CreditScoringSolution

__all__ = ["CreditScoringSolution"]
