"""Minimum sample size from the Krejcie–Morgan table, as the regulation uses it."""
from __future__ import annotations

from fractions import Fraction

CHI_SQUARE = Fraction("3.841")
P = Fraction(1, 2)
D = Fraction("0.05")


def krejcie_morgan(population: int) -> int:
    """S = χ²·N·P(1−P) / (d²(N−1) + χ²·P(1−P)), rounded half up (N = 50 -> 44)."""
    if population < 1:
        raise ValueError("populasi harus lebih dari 0")
    n = population
    s = CHI_SQUARE * n * P * (1 - P) / (D * D * (n - 1) + CHI_SQUARE * P * (1 - P))
    whole, rest = divmod(s.numerator, s.denominator)
    return whole + (1 if 2 * rest >= s.denominator else 0)


def sample_status(population: int | None, respondents: int) -> dict | None:
    """Whether a period has enough respondents: None when no population is known."""
    if not population:
        return None
    needed = krejcie_morgan(population)
    return {
        "population": population,
        "needed": needed,
        "respondents": respondents,
        "enough": respondents >= needed,
        "short_by": max(0, needed - respondents),
    }
