"""The disclosure rules of the audit, on text and tables: pure functions, no files.

A leak is a count from 1 to 4 of people or records, a patient or record identifier, or text from
the restricted outputs. The rules look for counts where a count of people or records is meant: a
column or table header that names one, a number followed by a word for people or records, "X of Y"
where X is a numerator, "n = X", or a label about people followed by its count. Page numbers, years,
goal numbers, confidence limits and other numbers in [1, 4] are left alone.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

LOW, HIGH = 1, 4

# Words for people or records, after a number ("3 patients") or in a label ("Deaths: 2").
PEOPLE = r"(?:people|persons?|patients?|women|men|individuals?|deaths?|records?|respondents?|cases?|survivors?)"
# Words that make a number before them something other than a count ("stage 4 patients", "1 in 4 patients").
NOT_A_COUNT_BEFORE = {"stage", "goal", "grade", "type", "level", "page", "step", "table", "figure", "fig", "version",
                      "quintile", "decile", "phase", "q", "year", "years", "in", "aged", "age", "every", "ps",
                      "performance", "status", "group", "chart", "section", "recommendation", "statement", "tier",
                      "band", "v", "no", "number", "appendix", "part", "rule", "item"}
LABEL_CUES = re.compile(r"\b(?:people|persons?|patients?|women|men|records?|aged|excluded|exclusions?|quarantin\w*|"
                        r"died|deaths?|respondents?|cases?|at risk|under 18)\b", re.IGNORECASE)

_ADJECTIVE = r"(?:more|fewer|other|further|additional|eligible|new|excluded|quarantined|invalid|included|remaining|treated)"
# Each pattern opens with the character it needs (the digit, 'n', the colon) and looks behind only after it:
# the regex engine then skips straight to those characters, three times faster over a page than when a
# look-behind opens the pattern. "([1-4])(?<![\w.,/\-–][1-4])" is "(?<![\w.,/\-–])([1-4])" read that way.
_NUMBER_PEOPLE = re.compile(rf"([1-4])(?<![\w.,/\-–][1-4])[ \t]+(?:{_ADJECTIVE}[ \t]+)?{PEOPLE}\b", re.IGNORECASE)
_PEOPLE_NEXT = re.compile(rf"[ \t]+(?:[a-z]+[ \t]+)?{PEOPLE}\b", re.IGNORECASE)
_X_OF_Y = re.compile(r"([1-4])(?<![\w.,/\-–][1-4]) (?:out )?of ([0-9][0-9,]*)(?![\w.,])")
_N_EQUALS = re.compile(r"[nN](?<!\w[nN])\s*[=:]\s*([1-4])(?![\w.,])")
# A label and its count: "Aged under 18: 2" (running text, alt text), or a layout line ending "label    2".
_AFTER_COLON = re.compile(r":[ \t]*([1-4])(?=[ \t]*(?:$|[;,)]|\.(?!\d)|[ \t]))", re.MULTILINE)
_AT_LINE_END = re.compile(r"[ \t]{2,}([1-4])[ \t]*$", re.MULTILINE)
_LINE_END_DIGIT = re.compile(r"([1-4])(?<=[ \t]{2}[1-4])[ \t]*$", re.MULTILINE)  # the digit of each _AT_LINE_END
_WHOLE_SMALL = re.compile(r"^\s*([1-4])(?:\.0+)?\s*$")

# Column headers that name a count of people or records (after lower-casing, '_' -> ' ', brackets removed).
COUNT_HEADER = re.compile(
    r"^(?:numerator|denominator|patients?|people|persons|deaths?|died|at risk|count|number|n|records?|"
    r"records read|quarantined|excluded|included|events|observed|observed events|respondents|yes count|yes|"
    r"recorded|eligible|women|men|survivors|cases|alive|(?:[a-z]+ )?(?:records|patients|people|deaths))$")
NOT_COUNT_HEADER = re.compile(r"expected|rate|%|percent|ratio|median|mean|limit|\bci\b|confidence|decile|year|day|"
                              r"quarter|index|code|score|p value|odds|estimate|error|target|threshold")
# Hub files whose columns are not what their names suggest (the funnel grid's n is an axis, not patients);
# also their slices named `<part>_<hub file>` (the portal's downloads).
NOT_COUNT_COLUMNS = {"naome_funnel_limits.csv": {"n"}}

# Whole runs of letters, digits, '_' and '-' at least as long as the shortest identifier (looks_like_identifier).
IDENTIFIER_TOKEN = re.compile(r"[A-Za-z0-9_-]{6,}")
_NHS_NUMBER = re.compile(r"(\d)(?<![\w.]\d)(\d\d)[ -]?(\d{3})[ -]?(\d{4})(?![\w.])")


@dataclass(frozen=True)
class Hit:
    """One possible disclosure inside a piece of content."""

    rule: str  # small_count, patient_identifier, restricted_content, nhs_number
    where: str  # row/column, line, attribute
    excerpt: str


def normalise_header(header: object) -> str:
    """'Numerator (patients)' -> 'numerator'; 'records_read' -> 'records read'."""
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", str(header or "")).replace("_", " ").lower()
    return " ".join(text.split())


def is_count_header(header: object, file_name: str = "") -> bool:
    """Whether a column header names a count of people or records."""
    return _is_count_header(str(header or "").strip(), file_name)


@functools.lru_cache(maxsize=1 << 16)  # a few hundred headers asked about a hundred thousand times an audit
def _is_count_header(raw: str, file_name: str) -> bool:
    if any(raw in columns for name, columns in NOT_COUNT_COLUMNS.items()
           if file_name == name or file_name.endswith(f"_{name}")):
        return False
    name = normalise_header(raw)
    if not name or NOT_COUNT_HEADER.search(name):
        return False
    return bool(COUNT_HEADER.match(name))


def small_whole_number(value: object) -> bool:
    """A cell holding a whole number from 1 to 4 (as a number or as text)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return LOW <= value <= HIGH and float(value).is_integer()
    return bool(_WHOLE_SMALL.match(str(value)))


def small_counts_in_table(header: list[object], rows: Iterable[list[object]], file_name: str = "",
                          first_row: int = 2, row_numbers: Iterable[int] | None = None) -> Iterator[Hit]:
    """Cells from 1 to 4 in the columns whose header names a count; rows numbered from `first_row` (or as given)."""
    columns = [i for i, h in enumerate(header) if is_count_header(h, file_name)]
    if not columns:
        return
    numbers = row_numbers if row_numbers is not None else itertools.count(first_row)
    for number, row in zip(numbers, rows):
        for i in columns:
            if i < len(row) and small_whole_number(row[i]):
                yield Hit("small_count", f"row {number}, column {str(header[i]).strip()!r}", str(row[i]).strip())


def _previous_word(text: str, start: int) -> str:
    """The token just before `start`, lower case, when it is a word (else '')."""
    tokens = text[max(0, start - 40):start].split()
    word = tokens[-1].strip("([{\"'") if tokens else ""
    return word.lower() if word.isalpha() else ""


def small_counts_in_text(text: str, where: str = "") -> Iterator[Hit]:
    """Counts from 1 to 4 of people or records written in running text, labels and alt texts."""
    for match in _NUMBER_PEOPLE.finditer(text):
        if _previous_word(text, match.start()) not in NOT_A_COUNT_BEFORE:
            yield Hit("small_count", where or _line_of(text, match.start()), _excerpt(text, match))
    for match in _x_of_y(text):  # "3 of 68 patients": a numerator, when people are named
        whole = int(match.group(2).replace(",", ""))
        if whole >= int(match.group(1)) and _PEOPLE_NEXT.match(text, match.end()) and \
                _previous_word(text, match.start()) not in NOT_A_COUNT_BEFORE:
            yield Hit("small_count", where or _line_of(text, match.start()), _excerpt(text, match))
    for match in _n_equals(text):
        yield Hit("small_count", where or _line_of(text, match.start()), _excerpt(text, match))
    for match in itertools.chain(_AFTER_COLON.finditer(text), _counts_at_line_end(text)):
        line_start = text.rfind("\n", 0, match.start()) + 1
        label = re.split(r"[;.](?:\s|$)|[ \t]{2,}", text[max(line_start, match.start() - 100):match.start()])[-1]
        if LABEL_CUES.search(label) and not re.search(r"\d[ \t]*$", label) and \
                _previous_word(text, match.start(1)) not in NOT_A_COUNT_BEFORE:
            yield Hit("small_count", where or _line_of(text, match.start()), _excerpt(text, match))


def _counts_at_line_end(text: str) -> Iterator[re.Match]:
    """The matches of _AT_LINE_END, found from their digit: scanning every run of layout spaces cost far more."""
    if "  " not in text and "\t" not in text:  # no two spaces or tabs in a row (as in a page's text): none
        return
    for digit in _LINE_END_DIGIT.finditer(text):
        start = digit.start()
        while start and text[start - 1] in " \t":
            start -= 1
        match = _AT_LINE_END.match(text, start)
        if match:  # always, as the digit has two spaces before it and only spaces after it on its line
            yield match


# _X_OF_Y and _N_EQUALS found from the letters or sign they hold, far rarer in the outputs' numbers and words
# than the digit or the letter n they open with (the regex engine tries a pattern at each of those).
_OF_NUMBER = re.compile(r"of [0-9]")
# One pattern for each sign: opening with one literal character, each is searched for faster than a class.
_SIGNS_SMALL = (re.compile(r"=\s*[1-4](?![\w.,])"), re.compile(r":\s*[1-4](?![\w.,])"))


def _x_of_y(text: str) -> Iterator[re.Match]:
    """The matches of _X_OF_Y, as finditer finds them (left to right, none inside another)."""
    end = 0
    for of in _OF_NUMBER.finditer(text):
        for start in (of.start() - 2, of.start() - 6):  # "3 of 68", "3 out of 68"
            match = _X_OF_Y.match(text, start) if start >= end else None
            if match:
                end = match.end()
                yield match
                break


def _n_equals(text: str) -> Iterator[re.Match]:
    """The matches of _N_EQUALS, as finditer finds them: each has its own '=' or ':' after 'n' and white space."""
    for start in sorted(sign.start() for pattern in _SIGNS_SMALL for sign in pattern.finditer(text)):
        while start and text[start - 1].isspace():
            start -= 1
        match = _N_EQUALS.match(text, start - 1) if start else None
        if match:
            yield match


def identifiers_in_text(text: str, patient_ids: frozenset[str], record_ids: frozenset[str],
                        where: str = "") -> Iterator[Hit]:
    """Patient identifiers and restricted record identifiers appearing as whole tokens."""
    tokens = set(IDENTIFIER_TOKEN.findall(text))  # identifiers have a digit: the sets below keep only those
    for token in sorted(tokens & patient_ids):
        yield Hit("patient_identifier", where, token)
    for token in sorted((tokens & record_ids) - patient_ids):
        yield Hit("restricted_content", where, token)


def nhs_numbers_in_text(text: str, where: str = "") -> Iterator[Hit]:
    """Ten-digit numbers that pass the NHS number modulus 11 check."""
    for match in _NHS_NUMBER.finditer(text):
        digits = "".join(match.groups())
        if valid_nhs_number(digits):
            yield Hit("nhs_number", where or _line_of(text, match.start()), match.group(0))


def valid_nhs_number(digits: str) -> bool:
    """The NHS number check digit: 11 - (sum of the first nine digits weighted 10..2) mod 11; 10 is invalid."""
    if len(digits) != 10 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    check = 11 - sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1))) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def restricted_phrases_in_text(text: str, phrases: frozenset[str], where: str = "") -> Iterator[Hit]:
    """Distinctive sentences of the restricted outputs found in public text (whitespace-insensitive)."""
    flat = " ".join(text.split())
    for phrase in sorted(phrases):
        if phrase in flat:
            yield Hit("restricted_content", where, phrase[:80])


def _line_of(text: str, position: int) -> str:
    return f"line {text.count(chr(10), 0, position) + 1}"


def _excerpt(text: str, match: re.Match) -> str:
    start = max(0, match.start() - 40)
    snippet = " ".join(text[start:match.end() + 10].split())
    return snippet[-110:]


# The fewest digits of an identifier that is a number alone (an NHS number has ten); the readers use it too.
NUMBER_IDENTIFIER_DIGITS = 8
_IDENTIFIER_SHAPE = re.compile(rf"(?=[^0-9]*[0-9])(?=[^A-Za-z]*[A-Za-z]).{{6,}}|[0-9]{{{NUMBER_IDENTIFIER_DIGITS},}}", re.S)


def looks_like_identifier(token: str) -> bool:
    """Long enough, with a digit, and with a letter unless it is a long number: not a year, code or count."""
    return _IDENTIFIER_SHAPE.fullmatch(token) is not None


# looks_like_identifier on each line of a text without other line breaks: one pass over many tokens.
_IDENTIFIER_LINE = re.compile(
    rf"^(?:(?=[^0-9\n]*[0-9])(?=[^A-Za-z\n]*[A-Za-z])[^\n]{{6,}}|[0-9]{{{NUMBER_IDENTIFIER_DIGITS},}})$", re.M)


def identifier_like(tokens: Iterable[str]) -> set[str]:
    """The tokens that look like identifiers (what looks_like_identifier keeps)."""
    tokens = list(tokens)
    joined = "\n".join(tokens)
    if joined.count("\n") != max(len(tokens) - 1, 0):  # a token with a line break: one at a time
        return set(filter(looks_like_identifier, tokens))
    # A regex call per token cost more than the test: one findall over them all (0.2 s -> 0.03 s for 300,000).
    return set(_IDENTIFIER_LINE.findall(joined))
