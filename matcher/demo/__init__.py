"""The demo city (Hangzhou's 13 districts and counties) and its simulated outcomes.

- :mod:`~matcher.demo.city`: a deterministic city of volunteers, postings, shifts and history.
- :mod:`~matcher.demo.outcomes`: outcomes drawn from a documented hidden preference model, so
  learning has a known answer to find.
"""

from matcher.demo.city import DemoCity, demo_needs, generate_city

__all__ = ["DemoCity", "demo_needs", "generate_city"]
