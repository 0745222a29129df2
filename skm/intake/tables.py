"""Reading import files (CSV or XLSX) into rows of cells, and parsing their cells."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Optional

from skm.core.errors import DomainError
from skm.survey.profile import TIME_SLOTS, time_slot_for


class ImportRejected(DomainError):
    """The file cannot be imported; `errors` lists every problem found."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
PROFILE_COLUMNS = ("tanggal", "jam", "layanan", "jenis_kelamin", "usia", "pendidikan", "pekerjaan", "saran")
# Optional status columns that skm.exports writes, so an export re-imports without loss.
STATUS_COLUMNS = ("dikecualikan", "ditandai", "alasan_tanda")
REQUIRED_COLUMNS = ("tanggal",)
# CSV cells starting with one of these are neutralised on export with a leading apostrophe
# (formula injection); the importer strips that apostrophe again (see unescape_csv_cell).
CSV_RISKY_START = ("=", "+", "-", "@", "\t", "\r", "'")
MONTHS_ID = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "pebruari": 2, "maret": 3, "mar": 3,
    "april": 4, "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "agustus": 8,
    "agu": 8, "agt": 8, "ags": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "oktober": 10,
    "okt": 10, "oct": 10, "november": 11, "nov": 11, "nopember": 11, "desember": 12, "des": 12,
    "dec": 12, "may": 5, "june": 6, "july": 7, "august": 8, "october": 10, "december": 12,
    "january": 1, "february": 2, "march": 3,
}
TRUE_WORDS = {"ya", "y", "1", "true", "benar", "x"}
FALSE_WORDS = {"", "tidak", "t", "0", "false", "salah", "-"}


class Formula(str):
    """The text of a real spreadsheet formula cell (XLSX), as opposed to plain text."""


def escape_csv_cell(value: str) -> str:
    """Neutralise a text cell against formula injection: a leading apostrophe."""
    if value and value.startswith(CSV_RISKY_START):
        return "'" + value
    return value


def unescape_csv_cell(value: str) -> str:
    """Undo escape_csv_cell: an apostrophe followed by a risky character is dropped."""
    if len(value) >= 2 and value[0] == "'" and value[1] in CSV_RISKY_START:
        return value[1:]
    return value


def _read_csv(content: bytes) -> list[list]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="strict")
    # Many NULs: a binary or UTF-16 file. A stray one in a cell is text; the field validators
    # (skm.survey.fields) remove control characters from every respondent text.
    if text.count("\x00") * 100 > len(text):
        raise ImportRejected(["Berkas bukan CSV teks."])
    # The header line decides the separator (saran text full of commas or semicolons
    # can fool csv.Sniffer); the sniffer is only the fallback for a header without one.
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    dialect: type[csv.Dialect]
    if counts[best]:
        dialect = type("HeaderDialect", (csv.excel,), {"delimiter": best})
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
    # strict: a quote that is never closed (or closed in the middle of a cell) is an error,
    # not a cell that silently swallows the rest of the file and its respondents.
    rows: list[list] = []
    counted = 1  # the importer's row number (header = baris 1, blank rows not counted)
    try:
        for row in csv.reader(io.StringIO(text), dialect, strict=True):
            rows.append([unescape_csv_cell(c) for c in row])
            if rows[-1] and any(c.strip() for c in rows[-1]):
                counted += 1
    except csv.Error:
        raise ImportRejected([
            f"baris {counted}: Berkas CSV rusak: tanda kutip (\") di baris ini tidak ditutup dengan benar, "
            "sehingga baris-baris berikutnya akan terbaca sebagai satu isian. Perbaiki tanda kutipnya, "
            "lalu unggah ulang."
        ]) from None
    return rows


def _read_xlsx(content: bytes) -> list[list]:
    """Bounded first, then parsed in a child process with CPU, memory and time limits
    (skm.intake.xlsx_reader), so no upload can stall a web worker."""
    from skm.intake.xlsx_reader import read_xlsx_rows

    return read_xlsx_rows(content, MAX_ROWS)


def read_table(filename: str, content: bytes) -> list[list]:
    if not content:
        raise ImportRejected(["Berkas kosong."])
    if len(content) > MAX_BYTES:
        raise ImportRejected(["Berkas terlalu besar: paling besar 10 MB."])
    name = filename.lower()
    if name.endswith(".xlsx"):
        if not content.startswith(b"PK"):
            raise ImportRejected(["Berkas berakhiran .xlsx tetapi isinya bukan Excel."])
        return _read_xlsx(content)
    if name.endswith(".csv") or name.endswith(".txt"):
        if content.startswith(b"PK") or content.startswith(b"\xd0\xcf"):
            raise ImportRejected(["Berkas berakhiran .csv tetapi isinya bukan teks CSV."])
        try:
            return _read_csv(content)
        except UnicodeDecodeError:
            raise ImportRejected(["Berkas CSV harus berupa teks UTF-8."]) from None
    raise ImportRejected(["Jenis berkas tidak didukung: unggah CSV atau XLSX."])


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


DATE_HELP = "format tanggal tidak dikenal (pakai YYYY-MM-DD, DD/MM/YYYY atau 4 Juni 2025)"


def parse_date(value) -> dt.date:
    """A survey date from a cell: a date, ISO, day-first numeric or '4 Juni 2025'.

    Two-digit years and month-first dates are refused rather than guessed."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("tanggal berupa angka; format sel sebagai tanggal atau tulis YYYY-MM-DD")
    text = _text(value)
    if not text:
        raise ValueError("tanggal wajib diisi")
    if not text.isascii():  # digits 0–9 only (strptime and \d would take '٢٠٢٣' too)
        raise ValueError(DATE_HELP)
    # A datetime written as text: keep the date part.
    text = re.sub(r"^(\d{4}-\d{2}-\d{2})[ T]\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:\.\d+)?)?$", r"\1", text)
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    match = re.fullmatch(r"(\d{1,2})[\s-]+([A-Za-z]+)\.?[\s-]+(\d{4})", text)
    if match and match[2].lower() in MONTHS_ID:
        try:
            return dt.date(int(match[3]), MONTHS_ID[match[2].lower()], int(match[1]))
        except ValueError:
            raise ValueError(f"tanggal '{text[:30]}' tidak ada di kalender") from None
    if re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2}", text):
        raise ValueError("tahun harus ditulis empat angka (mis. 04/06/2025)")
    if re.fullmatch(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}", text):
        raise ValueError(f"tanggal '{text[:30]}' tidak valid (pakai YYYY-MM-DD atau DD/MM/YYYY)")
    raise ValueError(DATE_HELP)


_parse_date = parse_date  # the name the foundation used


def _parse_flag(value) -> bool:
    text = _text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"'{text[:20]}' bukan ya/tidak")


def _parse_time(value) -> tuple[Optional[dt.time], Optional[str]]:
    if isinstance(value, dt.time):
        return value, time_slot_for(value.hour)
    if isinstance(value, dt.datetime):
        return value.time(), time_slot_for(value.hour)
    text = _text(value)
    if not text:
        return None, None
    compact = text.replace(" ", "").replace("–", "-")
    if compact in TIME_SLOTS:
        return None, compact
    match = re.fullmatch(r"([0-9]{1,2})[:.]([0-9]{2})(?:[:.][0-9]{2})?", text)
    if not match:
        raise ValueError("format jam tidak dikenal (pakai HH:MM)")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ValueError("jam tidak valid")
    return dt.time(hour, minute), time_slot_for(hour)


def _is_formula(value, column: str = "") -> bool:
    """A real XLSX formula anywhere, or text starting with '=' outside saran (CSV)."""
    if isinstance(value, Formula):
        return True
    return column != "saran" and isinstance(value, str) and value.startswith("=")
