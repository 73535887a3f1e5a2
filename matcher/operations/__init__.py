"""Running the volunteering: filling many shifts at once and recognising service.

- :mod:`~matcher.operations.allocation`: campaign and emergency allocation (optimal, fair,
  within every limit) and the greedy baseline it beats.
- :mod:`~matcher.operations.recognition`: star tiers from approved service hours.

The transactional rules of sign-ups, check-in and hours live with their records in
:mod:`matcher.store.operations`.
"""

from matcher.operations.allocation import Fairness, Limits, Plan, allocate, campaign, emergency, greedy
from matcher.operations.recognition import Standing, Tiers

__all__ = ["Fairness", "Limits", "Plan", "Standing", "Tiers", "allocate", "campaign", "emergency", "greedy"]
