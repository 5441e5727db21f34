"""The audit's rules on text and tables: what is a count of people or records, and what is not."""

from __future__ import annotations

import pytest

from naome_report.audit import rules


def _texts(text: str) -> list[str]:
    return [hit.excerpt for hit in rules.small_counts_in_text(text)]


@pytest.mark.parametrize("text", [
    "In 2024/25, 3 patients were excluded.",
    "Aged under 18 at metastatic diagnosis: 2; Metastatic diagnosis on the date of death: 99.",
    "Deaths: 4",
    "2 quarantined records in sact.csv",
    "Treated with radiotherapy (n = 3)",
    "3 of 68 patients had a biopsy",
    "Aged under 18 at metastatic diagnosis          2",  # a table row as pdftotext -layout prints it
    "1 woman and 4 men",
])
def test_counts_of_people_or_records_are_found(text: str) -> None:
    assert _texts(text), text


@pytest.mark.parametrize("text", [
    "Page 2 of 52",
    "QI goal 4: Improve access to nursing support for patients",
    "About 1 in 4 patients had an emergency admission.",
    "Stage 4 patients are de novo.",
    "95% CI 1.2% to 3.4%; 2 of 3 points beyond 2 sigma; published for 4 of 12 quarters.",
    "No value for 2 of 12 (suppressed)",
    "Survival at 1 and 3 years: 65% of patients alive at 1 year",
    "Diagnosed in 2024 patients",
    "Performance status 0-4 recorded for patients",
    "Patients aged 70 or over: 3.5%",
    "Recommendation 3: patients should be discussed at an MDT",
    "12 patients; 40 people; 1,204 records",
    "Section 4.  Patients",
])
def test_numbers_that_are_not_counts_of_people_are_left_alone(text: str) -> None:
    assert not _texts(text), text


@pytest.mark.parametrize("header, expected", [
    ("numerator", True), ("Numerator (patients)", True), ("Denominator (patients)", True), ("at_risk", True),
    ("Patients", True), ("People", True), ("Deaths", True), ("Records read", True), ("Quarantined", True),
    ("Observed events", True), ("yes_count", True), ("n", True),
    ("Expected events", False), ("Percentage (%)", False), ("Lower 95% confidence limit (%)", False),
    ("QI goal", False), ("Years after MBC diagnosis", False), ("Decile of predicted risk", False),
    ("Median days", False), ("Indicator", False), ("Observed rate", False), ("", False),
])
def test_count_headers(header: str, expected: bool) -> None:
    assert rules.is_count_header(header) is expected


def test_the_funnel_grid_n_is_not_a_count_of_patients() -> None:
    assert rules.is_count_header("n", "naome_casemix_calibration.csv")
    assert not rules.is_count_header("n", "naome_funnel_limits.csv")
    assert not rules.is_count_header("n", "mdt_naome_funnel_limits.csv")  # one indicator's slice (portal)
    assert rules.is_count_header("n", "funnel_limits.csv")


def test_small_counts_in_a_table_are_placed_by_row_and_column() -> None:
    header = ["Period", "Numerator (patients)", "Percentage (%)", "QI goal"]
    rows = [["2024/25", 12, 3.0, 4], ["2025/26", "3", 25.0, 2], ["2025/26", 4.0, 1.0, 1]]
    hits = list(rules.small_counts_in_table(header, rows, first_row=6))
    assert [(h.where, h.excerpt) for h in hits] == [("row 7, column 'Numerator (patients)'", "3"),
                                                    ("row 8, column 'Numerator (patients)'", "4.0")]


def test_nhs_number_check_digit() -> None:
    # 943 476 5919 is the NHS's own example of a valid number (weights 10..2, modulus 11)
    assert rules.valid_nhs_number("9434765919")
    assert not rules.valid_nhs_number("9434765918")
    assert not rules.valid_nhs_number("1111111111")
    assert [h.excerpt for h in rules.nhs_numbers_in_text("NHS number 943 476 5919 on file")] == ["943 476 5919"]
    assert not list(rules.nhs_numbers_in_text("E56000036 K04000001 20261125"))


def test_identifiers_are_matched_as_whole_tokens_only() -> None:
    patients, records = frozenset({"P010032937"}), frozenset({"EV0000123"})
    hits = list(rules.identifiers_in_text("see P010032937 and EV0000123 but not P0100329370 or XEV0000123",
                                          patients, records))
    assert [(h.rule, h.excerpt) for h in hits] == [("patient_identifier", "P010032937"),
                                                   ("restricted_content", "EV0000123")]


@pytest.mark.parametrize("token, expected", [
    ("P010032937", True), ("a1b2c3", True), ("12345678", True), ("2024", False), ("7A1", False),
    ("ZAA", False), ("1234567", False), ("abcdefgh", False),
])
def test_what_looks_like_an_identifier(token: str, expected: bool) -> None:
    assert rules.looks_like_identifier(token) is expected


def test_identifier_like_keeps_what_looks_like_an_identifier() -> None:
    tokens = ["P010032937", "a1b2c3", "12345678", "2024", "7A1", "ZAA", "1234567", "abcdefgh", "", "P010032937"]
    assert rules.identifier_like(tokens) == {"P010032937", "a1b2c3", "12345678"}
    # a token holding a line break is judged whole, as looks_like_identifier judges it
    assert rules.identifier_like(["ab\nc123", "x\n1", "2024"]) == {"ab\nc123"}
    assert rules.identifier_like([]) == set()


@pytest.mark.parametrize("text, found", [
    ("Treated (n=3) and (N : 2)", ["n=3", "N : 2"]),
    ("Seen:\n n\t=\t4 women", ["n\t=\t4"]),
    ("main = 3; in = 2; n = 30; n = 3.5; n = = 3; n=1a", []),  # inside a word, not 1 to 4, or no number next
])
def test_n_equals_is_found_from_its_sign(text: str, found: list[str]) -> None:
    assert [m.group(0) for m in rules._n_equals(text)] == found
    assert [m.group(0) for m in rules._N_EQUALS.finditer(text)] == found


@pytest.mark.parametrize("text, found", [
    ("3 out of 68 patients", ["3 out of 68"]),
    ("1 of 2 of 30", ["1 of 2"]),  # "2 of 30" starts inside "1 of 2": not a match of its own
    ("x3 of 9, 2 of 9,000 and 4 of 2; 3 of 4.5", ["2 of 9,000", "4 of 2"]),
    ("2 of\n9; 3  of 9; 1 out  of 9", []),
])
def test_x_of_y_is_found_from_its_of(text: str, found: list[str]) -> None:
    assert [m.group(0) for m in rules._x_of_y(text)] == found
    assert [m.group(0) for m in rules._X_OF_Y.finditer(text)] == found
