"""A tiny spreadsheet formula evaluator for tests (no LibreOffice on the build machine).

Supports what skm.exports writes: numbers, "strings", cell refs ($A$1), ranges (A1:B9),
+ - * /, comparisons (= <> < > <= >=), SUM, COUNT, COUNTA, COUNTIF(range,">0"), AVERAGE,
IF and ROUND (half away from zero, as Excel). Arithmetic is exact (Fraction), so a formula
result can be compared with the app's exact figure without tolerance. Semantics follow Excel:
SUM/COUNT/AVERAGE ignore text and empty cells in ranges.
"""
from __future__ import annotations

import re
from fractions import Fraction

from openpyxl.utils import column_index_from_string, get_column_letter

TOKEN = re.compile(r"""\s*(?:
    (?P<num>\d+(?:\.\d+)?)
  | (?P<str>"[^"]*")
  | (?P<ref>\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)
  | (?P<func>[A-Z]+)\(
  | (?P<op><>|<=|>=|[-+*/(),=<>])
)""", re.X)


def tokenize(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SyntaxError(f"cannot parse {text[pos:]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Error:
    """An error value (#DIV/0!) that only matters if a formula's result depends on it."""

    def __repr__(self):
        return "#DIV/0!"


ERROR = _Error()


def _number(v):
    return isinstance(v, Fraction)


class Evaluator:
    def __init__(self, worksheet):
        self.cells = {}
        for row in worksheet.iter_rows():
            for c in row:
                if c.value is not None:
                    self.cells[c.coordinate] = c.value
        self.cache: dict[str, object] = {}

    def value(self, ref: str):
        ref = ref.replace("$", "")
        if ref in self.cache:
            return self.cache[ref]
        raw = self.cells.get(ref)
        if isinstance(raw, str) and raw.startswith("="):
            result = self.formula(raw)
        elif isinstance(raw, bool):
            result = raw
        elif isinstance(raw, (int, float)):
            result = Fraction(raw)
        else:
            result = raw
        self.cache[ref] = result
        return result

    def range(self, text: str) -> list:
        a, b = text.replace("$", "").split(":")
        ca, ra = re.match(r"([A-Z]+)(\d+)", a).groups()
        cb, rb = re.match(r"([A-Z]+)(\d+)", b).groups()
        out = []
        for r in range(int(ra), int(rb) + 1):
            for c in range(column_index_from_string(ca), column_index_from_string(cb) + 1):
                out.append(self.value(f"{get_column_letter(c)}{r}"))
        return out

    def formula(self, text: str):
        saved = getattr(self, "tokens", None), getattr(self, "i", 0)  # cells evaluate recursively
        self.tokens = tokenize(text[1:])
        self.i = 0
        try:
            result = self.compare()
            if self.i != len(self.tokens):
                raise SyntaxError(f"trailing tokens in {text}")
        finally:
            self.tokens, self.i = saved
        return result

    # recursive descent
    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self, value=None):
        tok = self.tokens[self.i]
        if value is not None and tok[1] != value:
            raise SyntaxError(f"expected {value}, got {tok}")
        self.i += 1
        return tok

    def compare(self):
        left = self.additive()
        kind, op = self.peek()
        if kind == "op" and op in ("=", "<>", "<", ">", "<=", ">="):
            self.take()
            right = self.additive()
            return {"=": left == right, "<>": left != right, "<": left < right, ">": left > right,
                    "<=": left <= right, ">=": left >= right}[op]
        return left

    def additive(self):
        value = self.term()
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            op = self.take()[1]
            right = self.term()
            if not (_number(value) and _number(right)):
                value = ERROR  # #VALUE! / #DIV/0! propagate
            else:
                value = value + right if op == "+" else value - right
        return value

    def term(self):
        value = self.factor()
        while self.peek()[1] in ("*", "/") and self.peek()[0] == "op":
            op = self.take()[1]
            right = self.factor()
            if not (_number(value) and _number(right)) or (op == "/" and right == 0):
                value = ERROR
            else:
                value = value * right if op == "*" else value / right
        return value

    def factor(self):
        kind, text = self.take()
        if kind == "num":
            return Fraction(text)
        if kind == "str":
            return text[1:-1]
        if kind == "ref":
            if ":" in text:
                return self.range(text)
            v = self.value(text)
            return Fraction(0) if v is None else v
        if kind == "op" and text == "-":
            v = self.factor()
            return -v if _number(v) else ERROR
        if kind == "op" and text == "(":
            v = self.compare()
            self.take(")")
            return v
        if kind == "func":
            args = []
            if self.peek()[1] != ")":
                args.append(self.compare())
                while self.peek()[1] == ",":
                    self.take()
                    args.append(self.compare())
            self.take(")")
            return self.call(text, args)
        raise SyntaxError(f"unexpected {text}")

    @staticmethod
    def _flat(args):
        for a in args:
            if isinstance(a, list):
                yield from a
            else:
                yield a

    def call(self, name, args):
        if name == "SUM":
            return sum((v for v in self._flat(args) if _number(v)), Fraction(0))
        if name == "COUNT":
            return Fraction(sum(1 for v in self._flat(args) if _number(v)))
        if name == "COUNTA":
            return Fraction(sum(1 for v in self._flat(args) if v not in (None, "")))
        if name == "AVERAGE":
            nums = [v for v in self._flat(args) if _number(v)]
            if not nums:
                return ERROR
            return sum(nums, Fraction(0)) / len(nums)
        if name == "COUNTIF":
            values, criterion = args
            m = re.fullmatch(r"(<>|<=|>=|<|>|=)?(-?\d+(?:\.\d+)?)", criterion)
            op, bound = m.group(1) or "=", Fraction(m.group(2))
            test = {"=": lambda v: v == bound, "<>": lambda v: v != bound, "<": lambda v: v < bound,
                    ">": lambda v: v > bound, "<=": lambda v: v <= bound, ">=": lambda v: v >= bound}[op]
            return Fraction(sum(1 for v in values if _number(v) and test(v)))
        if name != "IF" and any(a is ERROR for a in self._flat(args)):
            return ERROR
        if name == "IF":
            cond, a, b = (args + [False])[:3]
            return a if cond else b
        if name == "ROUND":
            value, places = args
            scaled = value * (10 ** int(places))
            q, r = divmod(abs(scaled.numerator), scaled.denominator)
            if 2 * r >= scaled.denominator:
                q += 1
            return Fraction(q if scaled >= 0 else -q, 10 ** int(places))
        raise NotImplementedError(name)


def evaluate(worksheet, ref: str):
    value = Evaluator(worksheet).value(ref)
    if value is ERROR:
        raise ZeroDivisionError(f"{ref} is #DIV/0!")
    return value


__all__ = ["ERROR", "Evaluator", "evaluate"]
