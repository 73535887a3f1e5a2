"""The documented interchange format (``volmatch load`` / ``volmatch export``), both ways.

:mod:`~matcher.interchange.records` parses and writes volunteers, activities, shifts, needs,
service records and bookings; every error names the record and the field.
"""

from matcher.interchange.records import parse_world, world_to_json

__all__ = ["parse_world", "world_to_json"]
