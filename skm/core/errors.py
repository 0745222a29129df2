"""Errors the domain raises for people to read."""
from __future__ import annotations


class DomainError(ValueError):
    """A refusal whose message (in Bahasa Indonesia) can be shown to the user."""
