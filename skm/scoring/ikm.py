"""IKM scoring as Permenpan-RB 14/2017 defines it, in exact arithmetic.

Every value is a Fraction until it is shown; `round_half_up` and the `grade_*`
functions apply the regulation's display precision. No Flask here.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Optional


@dataclass(frozen=True)
class GradeBand:
    """One row of the regulation's grade table: the one definition of the bands, their
    bounds, labels and colour. Screens, charts, PDFs and workbooks all read GRADE_BANDS
    (templates as the Jinja global `grade_bands`)."""

    persepsi: int
    grade: str
    kinerja: str
    nrr_low: Decimal  # lower bound of NI (1–4), judged at 4 decimals
    nrr_high: Decimal  # the next band's lower bound (4 for A): where the band ends on a chart
    ikm_low: Decimal  # lower bound of NIK (25–100), judged at 2 decimals
    ikm_high: Decimal
    ni_printed: str  # the ranges as the regulation prints them (with its gaps)
    nik_printed: str
    color: str  # one palette for screen, charts and print; readable as text on white and under white text

    @property
    def rgb(self) -> str:
        """The colour as "r,g,b" for CSS rgba()."""
        return ",".join(str(int(self.color[i:i + 2], 16)) for i in (1, 3, 5))


# Lowest first, as the regulation prints the table.
GRADE_BANDS = (
    GradeBand(1, "D", "Tidak Baik", Decimal("1.00"), Decimal("2.60"), Decimal("25.00"), Decimal("65.00"),
              "1,00 – 2,5996", "25,00 – 64,99", "#b42318"),
    GradeBand(2, "C", "Kurang Baik", Decimal("2.60"), Decimal("3.0644"), Decimal("65.00"), Decimal("76.61"),
              "2,60 – 3,064", "65,00 – 76,60", "#b35900"),
    GradeBand(3, "B", "Baik", Decimal("3.0644"), Decimal("3.5324"), Decimal("76.61"), Decimal("88.31"),
              "3,0644 – 3,532", "76,61 – 88,30", "#0b5cad"),
    GradeBand(4, "A", "Sangat Baik", Decimal("3.5324"), Decimal("4.00"), Decimal("88.31"), Decimal("100.00"),
              "3,5324 – 4,00", "88,31 – 100,00", "#1a7f37"),
)
BAND = {b.grade: b for b in GRADE_BANDS}
GRADES = tuple(b.grade for b in reversed(GRADE_BANDS))  # best first: A, B, C, D
KINERJA = {b.grade: b.kinerja for b in reversed(GRADE_BANDS)}
GRADE_COLORS = {b.grade: b.color for b in GRADE_BANDS}
NO_GRADE_COLOR = "#57606a"


def grade_color(grade: Optional[str]) -> str:
    return GRADE_COLORS.get(grade or "", NO_GRADE_COLOR)

# Lower bounds, best first, checked on the value rounded to the table's own precision.
IKM_LOWER_BOUNDS = tuple((b.ikm_low, b.grade) for b in reversed(GRADE_BANDS[1:]))
NRR_LOWER_BOUNDS = tuple((b.nrr_low, b.grade) for b in reversed(GRADE_BANDS[1:]))

# The regulation's grade table, as reports print it.
GRADE_TABLE = tuple((b.persepsi, b.ni_printed, b.nik_printed, b.grade, b.kinerja) for b in GRADE_BANDS)


def to_fraction(value) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        # Never let a binary float in: go through its shortest decimal repr.
        return Fraction(Decimal(repr(value)))
    if isinstance(value, str):
        return Fraction(Decimal(value.replace(",", ".")))
    return Fraction(value)


def round_half_up(value, places: int = 2) -> Decimal:
    """Round like a spreadsheet's ROUND: 88,305 -> 88,31 (never banker's, never via float)."""
    frac = to_fraction(value)
    # Scale, then round half away from zero in integers: exact for any Fraction.
    num = abs(frac.numerator) * 10**places
    q, r = divmod(num, frac.denominator)
    if 2 * r >= frac.denominator:
        q += 1
    if frac < 0:
        q = -q
    return Decimal(q).scaleb(-places)


def grade_for_ikm(ikm) -> str:
    """Mutu for an IKM on the 25–100 scale, judged on its 2-decimal display."""
    shown = round_half_up(ikm, 2)
    for bound, grade in IKM_LOWER_BOUNDS:
        if shown >= bound:
            return grade
    return "D"


def grade_for_nrr(nrr) -> str:
    """Mutu for a value on the 1–4 scale (an NRR or the IKM unit), judged at 4 decimals."""
    shown = round_half_up(nrr, 4)
    for bound, grade in NRR_LOWER_BOUNDS:
        if shown >= bound:
            return grade
    return "D"


@dataclass(frozen=True)
class ElementTally:
    """What SQL gives per element: how many rated it and the sum of ratings."""

    code: str
    name: str
    count: int
    total: int
    position: int = 0
    question: str = ""


@dataclass(frozen=True)
class ElementScore:
    code: str
    name: str
    count: int
    total: int
    nrr: Fraction
    weight: Fraction
    weighted_nrr: Fraction
    grade: str
    kinerja: str
    position: int = 0
    question: str = ""


@dataclass
class Scores:
    respondents: int
    elements: list[ElementScore]
    ikm_unit: Optional[Fraction]  # 1–4
    ikm: Optional[Fraction]  # 25–100
    grade: Optional[str]
    kinerja: Optional[str]
    weighted_sum: Optional[Fraction] = None

    @property
    def has_data(self) -> bool:
        return self.ikm is not None


def element_scores(tallies: Sequence[ElementTally]) -> list[ElementScore]:
    """NRR, weight 1/n and weighted NRR per element that received at least one rating.

    An element nobody rated has no NRR and does not count in n.
    """
    rated = [t for t in tallies if t.count > 0]
    if not rated:
        return []
    weight = Fraction(1, len(rated))
    scores = []
    for t in rated:
        nrr = Fraction(t.total, t.count)
        grade = grade_for_nrr(nrr)
        scores.append(
            ElementScore(
                code=t.code,
                name=t.name,
                count=t.count,
                total=t.total,
                nrr=nrr,
                weight=weight,
                weighted_nrr=nrr * weight,
                grade=grade,
                kinerja=KINERJA[grade],
                position=t.position,
                question=t.question,
            )
        )
    return scores


def score(tallies: Sequence[ElementTally], respondents: int) -> Scores:
    """The IKM of a set of responses from its per-element tallies."""
    elements = element_scores(tallies)
    if not elements or respondents == 0:
        return Scores(respondents, [], None, None, None, None)
    weighted_sum = sum((e.weighted_nrr for e in elements), Fraction(0))
    ikm = weighted_sum * 25
    grade = grade_for_ikm(ikm)
    return Scores(respondents, elements, weighted_sum, ikm, grade, KINERJA[grade], weighted_sum)


def tallies_from_ratings(
    elements: Sequence[tuple[str, str]], rows: Iterable[dict[str, Optional[int]]]
) -> list[ElementTally]:
    """Tallies from in-memory rows ({code: rating or None}); used for import previews."""
    counts = {code: 0 for code, _ in elements}
    totals = {code: 0 for code, _ in elements}
    for row in rows:
        for code, _ in elements:
            rating = row.get(code)
            if rating is not None:
                counts[code] += 1
                totals[code] += rating
    return [
        ElementTally(code, name, counts[code], totals[code], position=i)
        for i, (code, name) in enumerate(elements)
    ]


def elements_by_kinerja(elements: Sequence[ElementScore]) -> dict[str, list[ElementScore]]:
    """Elements grouped under each kinerja label, best first, all four keys present."""
    groups: dict[str, list[ElementScore]] = {KINERJA[g]: [] for g in GRADES}
    for e in elements:
        groups[e.kinerja].append(e)
    return groups


@dataclass(frozen=True)
class RankedElements:
    """The n lowest (or highest) elements by NRR. Ties are never hidden: every element
    whose NRR equals the one at the cut-off is included, so `elements` may hold more
    than n; `tied` names those when they do not all fit in n. `places` is the number of
    decimals at which the listed NRRs show equal values as equal and different ones as
    different (also from the first element left out)."""

    n: int
    lowest: bool
    elements: tuple[ElementScore, ...]
    tied: tuple[ElementScore, ...]
    places: int

    def __iter__(self):
        return iter(self.elements)

    def __len__(self) -> int:
        return len(self.elements)

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.elements]


DEFAULT_NRR_PLACES = 2
TIE_NRR_PLACES = 3  # a tie is shown with one decimal more than the default display


def distinguishing_places(values: Iterable, start: int = DEFAULT_NRR_PLACES) -> int:
    """Fewest decimals (at least `start`) at which different values never display alike."""
    distinct = sorted({to_fraction(v) for v in values})
    places = start
    while places < 20 and any(
        round_half_up(a, places) == round_half_up(b, places) for a, b in zip(distinct, distinct[1:])
    ):
        places += 1
    return places


def by_nrr(elements: Sequence[ElementScore], lowest: bool = True) -> list[ElementScore]:
    """Lowest (or highest) NRR first; equal NRRs in questionnaire order."""
    return sorted(elements, key=lambda e: ((e.nrr if lowest else -e.nrr), e.position, e.code))


def _ranked(elements: Sequence[ElementScore], n: int, lowest: bool) -> RankedElements:
    n = max(0, int(n))
    ranked = by_nrr(elements, lowest)
    if not n or not ranked:
        return RankedElements(n, lowest, (), (), DEFAULT_NRR_PLACES)
    cut = ranked[min(n, len(ranked)) - 1].nrr
    chosen = tuple(e for e in ranked if (e.nrr <= cut if lowest else e.nrr >= cut))
    tied = tuple(e for e in chosen if e.nrr == cut) if len(chosen) > n else ()
    shown = [e.nrr for e in chosen] + [e.nrr for e in ranked[len(chosen):len(chosen) + 1]]
    places = distinguishing_places(shown, TIE_NRR_PLACES if tied else DEFAULT_NRR_PLACES)
    return RankedElements(n, lowest, chosen, tied, places)


def lowest_elements(elements: Sequence[ElementScore], n: int = 3) -> RankedElements:
    """The n lowest NRR, lowest first (equal NRR in questionnaire order), plus every
    element tied with the n-th: the one rule for "the lowest N" everywhere."""
    return _ranked(elements, n, lowest=True)


def highest_elements(elements: Sequence[ElementScore], n: int = 1) -> RankedElements:
    """The n highest NRR, highest first, plus every element tied with the n-th."""
    return _ranked(elements, n, lowest=False)


@dataclass
class Breakdown:
    """Counts and percentages of one profile field."""

    label: str
    rows: list[tuple[str, int, Fraction]] = field(default_factory=list)  # (category, count, pct)
    total: int = 0


def breakdown(label: str, counts: Sequence[tuple[str, int]]) -> Breakdown:
    total = sum(c for _, c in counts)
    rows = [(cat, c, Fraction(100 * c, total) if total else Fraction(0)) for cat, c in counts]
    return Breakdown(label, rows, total)


def age_band_labels(bounds: Sequence[int]) -> list[str]:
    """[17, 24, 30, 41] -> ["17–23", "24–29", "30–40", "> 40"]."""
    labels = []
    for i, lo in enumerate(bounds):
        if i + 1 < len(bounds):
            labels.append(f"{lo}–{bounds[i + 1] - 1}")
        else:
            labels.append(f"> {lo - 1}")
    return labels


def age_band_index(age: int, bounds: Sequence[int]) -> Optional[int]:
    """Index of the band an age falls in; None below the first band."""
    index = None
    for i, lo in enumerate(bounds):
        if age >= lo:
            index = i
    return index
