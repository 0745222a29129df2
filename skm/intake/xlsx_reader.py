"""Reading an uploaded XLSX without letting it stall the site.

A small XLSX can be expensive: 109 KB holding 2 million numeric cells took 21 s of CPU,
428 KB of shared strings 321 MB of memory, inside the web worker. So:

1. `inspect_xlsx` bounds the file before any parsing, from the zip directory and the
   first bytes of two members: uncompressed size (total and per member), member count,
   the first sheet's declared dimension (rows, columns) and the shared-strings count.
2. `read_xlsx_rows` parses in a child process (`python -I skm/intake/xlsx_child.py`) that
   first limits itself with resource.setrlimit (CPU seconds, address space) and is killed
   after a wall-clock timeout; rows come back as tagged JSON. A refusal is a clear
   message in Bahasa Indonesia (ImportRejected), never a stalled worker or a 500.

No Flask here.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from skm.intake.tables import Formula, ImportRejected

MAX_UNCOMPRESSED = 120 * 1024 * 1024  # all members together
MAX_MEMBER = 100 * 1024 * 1024  # one sheet (100 000 rows x 17 short cells is ~50 MB)
MAX_SHARED_STRINGS_BYTES = 30 * 1024 * 1024
MAX_MEMBERS = 500
MAX_COLUMNS = 100
MAX_SHARED_STRINGS = 500_000
CPU_SECONDS = 30
MEMORY_BYTES = 768 * 1024 * 1024
TIMEOUT_SECONDS = 45

TOO_HEAVY = ("Berkas XLSX terlalu berat untuk dibaca (melebihi batas waktu atau memori). "
             "Kurangi isinya atau simpan sebagai CSV, lalu unggah ulang.")
DAMAGED = "Berkas XLSX rusak atau bukan berkas Excel."


def _head(zf: zipfile.ZipFile, name: str, size: int = 8192) -> str:
    with zf.open(name) as fh:
        return fh.read(size).decode("utf-8", errors="replace")


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def _first_sheet(zf: zipfile.ZipFile) -> str | None:
    names = zf.namelist()
    if "xl/worksheets/sheet1.xml" in names:
        return "xl/worksheets/sheet1.xml"
    sheets = sorted(n for n in names if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n))
    return sheets[0] if sheets else None


def inspect_xlsx(content: bytes, max_rows: int) -> None:
    """Refuse (ImportRejected) an XLSX whose declared size is beyond what an import needs."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportRejected([DAMAGED]) from None
    with zf:
        if len(infos) > MAX_MEMBERS:
            raise ImportRejected([DAMAGED])
        total = sum(i.file_size for i in infos)
        if total > MAX_UNCOMPRESSED or any(i.file_size > MAX_MEMBER for i in infos):
            raise ImportRejected([
                f"Berkas XLSX terlalu besar setelah dibuka ({total // (1024 * 1024)} MB; paling besar "
                f"{MAX_UNCOMPRESSED // (1024 * 1024)} MB). Hapus lembar atau sel yang tidak perlu, lalu unggah ulang."])
        try:
            sheet = _first_sheet(zf)
            if sheet is not None:
                match = re.search(r'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"',
                                  _head(zf, sheet))
                if match:
                    last_col = _column_number(match[3] or match[1])
                    last_row = int(match[4] or match[2])
                    if last_row > max_rows + 1:
                        raise ImportRejected([
                            f"Berkas terlalu besar: lembar pertama berisi {last_row:,} baris; paling banyak "
                            f"{max_rows:,} baris.".replace(",", ".")])
                    if last_col > MAX_COLUMNS:
                        raise ImportRejected([
                            f"Lembar pertama berisi {last_col:,} kolom; paling banyak {MAX_COLUMNS} kolom. "
                            "Hapus kolom yang tidak perlu.".replace(",", ".")])
            if "xl/sharedStrings.xml" in zf.namelist():
                info = zf.getinfo("xl/sharedStrings.xml")
                head = _head(zf, "xl/sharedStrings.xml", 2048)
                match = re.search(r'uniqueCount="(\d+)"', head) or re.search(r'\bcount="(\d+)"', head)
                if info.file_size > MAX_SHARED_STRINGS_BYTES or (match and int(match[1]) > MAX_SHARED_STRINGS):
                    raise ImportRejected([
                        "Berkas XLSX berisi terlalu banyak teks (shared strings) untuk sebuah impor. "
                        "Kurangi isinya atau simpan sebagai CSV, lalu unggah ulang."])
        except ImportRejected:
            raise
        except (zipfile.BadZipFile, OSError, ValueError, KeyError, RuntimeError, EOFError):
            raise ImportRejected([DAMAGED]) from None


# --- the child process ------------------------------------------------------------

CHILD = Path(__file__).with_name("xlsx_child.py")


def _decode(value):
    if isinstance(value, dict):
        if "f" in value:
            return Formula(value["f"])
        if "dt" in value:
            return dt.datetime.fromisoformat(value["dt"])
        if "d" in value:
            return dt.date.fromisoformat(value["d"])
        if "t" in value:
            return dt.time.fromisoformat(value["t"])
    return value


def read_xlsx_rows(content: bytes, max_rows: int) -> list[list]:
    """Inspect, then parse in a limited child process (skm/intake/xlsx_child.py, run in
    isolated mode: it imports nothing from skm, so it starts in a fraction of a second)."""
    inspect_xlsx(content, max_rows)
    cpu = int(os.environ.get("SKM_XLSX_CPU_SECONDS", CPU_SECONDS))
    memory = int(os.environ.get("SKM_XLSX_MEMORY_BYTES", MEMORY_BYTES))
    try:
        done = subprocess.run([sys.executable, "-I", str(CHILD), str(max_rows), str(MAX_COLUMNS), str(cpu),
                               str(memory)], input=content, capture_output=True, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise ImportRejected([TOO_HEAVY]) from None
    if done.returncode != 0:
        raise ImportRejected([TOO_HEAVY])
    try:
        result = json.loads(done.stdout.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ImportRejected([DAMAGED]) from None
    if "errors" in result:
        raise ImportRejected([str(e) for e in result["errors"]])
    return [[_decode(v) for v in row] for row in result["rows"]]
