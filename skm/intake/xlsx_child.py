"""The XLSX parser's child process: run as a script (`python -I xlsx_child.py ...`), it
imports nothing from skm (starting fast), limits itself (CPU seconds, address space),
reads the workbook from stdin and writes the first sheet's cells as tagged JSON.

argv: max_rows max_columns cpu_seconds memory_bytes. Output: {"rows": [...]} or
{"errors": [...]} (messages in Bahasa Indonesia); exit status 3 when out of memory.
See skm/intake/xlsx_reader.py, which starts it and reads its answer.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import resource
import sys

DAMAGED = "Berkas XLSX rusak atau bukan berkas Excel."


class Refused(Exception):
    pass


def encode(cell) -> object:
    value = cell.value
    # A real formula cell is marked so it can be refused even in the saran column,
    # while text that merely starts with "=" stays text.
    if getattr(cell, "data_type", None) == "f" and isinstance(value, str):
        return {"f": value}
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, dt.time):
        return {"t": value.isoformat()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def parse(content: bytes, max_rows: int, max_columns: int) -> list[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:
        raise Refused(DAMAGED) from None
    rows = []
    try:
        sheet = workbook.worksheets[0]
        for i, row in enumerate(sheet.iter_rows()):
            if i > max_rows + 1:
                raise Refused(f"Berkas terlalu besar: paling banyak {max_rows:,} baris.".replace(",", "."))
            if len(row) > max_columns:
                raise Refused(f"Lembar pertama berisi lebih dari {max_columns} kolom. Hapus kolom yang tidak perlu.")
            rows.append([encode(c) for c in row])
    except (Refused, MemoryError):
        raise
    except Exception:
        raise Refused(DAMAGED) from None
    finally:
        workbook.close()
    return rows


def main(argv: list[str]) -> int:
    max_rows, max_columns, cpu, memory = (int(a) for a in argv[1:5])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        content = sys.stdin.buffer.read()
        out: dict = {"rows": parse(content, max_rows, max_columns)}
    except Refused as exc:
        out = {"errors": [str(exc)]}
    except MemoryError:
        return 3
    sys.stdout.write(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
