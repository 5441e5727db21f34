"""Small-number disclosure control: primary, complementary and secondary suppression."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

STATUSES: tuple[str, ...] = ("published", "suppressed", "too_few", "not_available")


def primary_suppression(counts: ArrayLike, low: int = 1, high: int = 4) -> np.ndarray:
    """True for counts in [low, high]; zero and missing counts are not suppressed."""
    c = np.asarray(counts, dtype=float)
    with np.errstate(invalid="ignore"):
        return (c >= low) & (c <= high)


def complement_suppression(
    numerator: ArrayLike, denominator: ArrayLike, low: int = 1, high: int = 4
) -> np.ndarray:
    """True where denominator - numerator is in [low, high] (publishing the numerator would show it)."""
    complement = np.asarray(denominator, dtype=float) - np.asarray(numerator, dtype=float)
    return primary_suppression(complement, low, high)


def _group_levels(groups: ArrayLike, size: int) -> list[np.ndarray]:
    """Group codes per hierarchy level (-1 = in no group) from one label array or several."""
    if isinstance(groups, pd.DataFrame):
        columns = [groups[c].to_numpy() for c in groups.columns]
    else:
        as_array = np.asarray(groups, dtype=object)
        columns = list(as_array) if as_array.ndim == 2 else [as_array]
    levels = []
    for labels in columns:
        codes, _ = pd.factorize(pd.Series(np.asarray(labels, dtype=object)), use_na_sentinel=True)
        if codes.size != size:
            raise ValueError(f"groups have {codes.size} labels for {size} values")
        levels.append(codes)
    implicit = []
    for i, first in enumerate(levels):
        for second in levels[i + 1 :]:
            if _refines(first, second):
                fine, coarse = first, second
            elif _refines(second, first):
                fine, coarse = second, first
            else:
                raise ValueError(
                    "group levels must be nested (each group inside one group of the other "
                    "level); cross-classified totals need a dedicated disclosure tool"
                )
            # Coarse total minus the finer totals publishes the sum of the coarse group's
            # members that are in no finer group: they form a group of their own.
            remainder = np.where((fine < 0) & (coarse >= 0), coarse, -1)
            if np.any(remainder >= 0) and np.any(fine >= 0):
                implicit.append(remainder)
    return levels + implicit


def _refines(fine: np.ndarray, coarse: np.ndarray) -> bool:
    """Whether every group of `fine` lies inside a single group (or no group) of `coarse`."""
    in_group = fine >= 0
    pairs = pd.DataFrame({"fine": fine[in_group], "coarse": coarse[in_group]})
    return bool((pairs.groupby("fine")["coarse"].nunique() <= 1).all())


def _exposed(
    values: np.ndarray, hidden: np.ndarray, codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: is its group's total a give-away, and does the group's hidden total equal 0?

    A group is exposed when exactly one member with a value is hidden (total minus the
    rest gives it), or when its hidden members sum to 0 (the total shows they are all 0).
    """
    in_group = codes >= 0
    safe_codes = np.where(in_group, codes, 0)
    has_value = np.isfinite(values)
    # A member with no value is in no published total, so hiding it protects nothing.
    hiding = hidden & has_value & in_group
    count = np.bincount(safe_codes, weights=hiding, minlength=1)
    total = np.bincount(safe_codes, weights=np.where(hiding, values, 0.0), minlength=1)
    zero_sum = (count >= 1) & (total == 0)
    exposed = (count == 1) | zero_sum
    return in_group & exposed[safe_codes], in_group & zero_sum[safe_codes]


def secondary_suppression(
    values: ArrayLike, suppressed: ArrayLike, groups: ArrayLike
) -> np.ndarray:
    """Suppression mask extended so no group total gives away a suppressed member.

    In each group (members whose parent total is published) with exactly one suppressed
    member, the smallest other member with a value is also suppressed (ties: first by
    position); repeated until stable.  Partners prefer non-zero values: a zero adds no
    uncertainty when the suppressed value is itself zero, so zeros are used only when
    nothing else is left and never when the suppressed members sum to 0 (a group whose
    suppressed members are all zero also gets a non-zero partner).  `groups` is one array
    of labels (NaN = in no group) or a sequence / 2-d array / DataFrame of such arrays, one
    per level of a nested hierarchy; members of a coarser group that are in no finer group
    are treated as a group of their own (their sum is the coarse total minus the finer
    totals).  Cross-classified (non-nested) levels raise ValueError: bounds can make them
    disclosive and they need a dedicated tool.  A group with no usable partner stays
    exposed: see groups_needing_total_suppression.
    """
    v = np.asarray(values, dtype=float)
    result = np.asarray(suppressed, dtype=bool).copy()
    if v.shape != result.shape or v.ndim != 1:
        raise ValueError("values and suppressed must be 1-d arrays of the same length")
    levels = _group_levels(groups, v.size)
    position = np.arange(v.size)
    changed = True
    while changed:
        changed = False
        for codes in levels:
            exposed, zero_sum = _exposed(v, result, codes)
            candidates = exposed & ~result & np.isfinite(v) & ~(zero_sum & (v == 0))
            if not candidates.any():
                continue
            # Zeros rank after every positive value; idxmin keeps the first of tied minima.
            rank = np.where(v[candidates] > 0, v[candidates], np.inf)
            table = pd.DataFrame(
                {"code": codes[candidates], "rank": rank}, index=position[candidates]
            )
            picks = table.groupby("code")["rank"].idxmin().to_numpy()
            result[picks] = True
            changed = True
    return result


def groups_needing_total_suppression(
    suppressed: ArrayLike, groups: ArrayLike, values: ArrayLike | None = None
) -> np.ndarray:
    """True for members of a group whose total would still give away a suppressed member.

    Every published total that includes a flagged row must be withheld.  Without values:
    groups with exactly one suppressed member.  With values: members without a value are
    ignored and groups whose suppressed members sum to 0 count too.
    """
    s = np.asarray(suppressed, dtype=bool)
    v = np.ones(s.size) if values is None else np.asarray(values, dtype=float)
    flagged = np.zeros(s.size, dtype=bool)
    for codes in _group_levels(groups, s.size):
        exposed, _ = _exposed(v, s, codes)
        flagged |= exposed
    return flagged


def apply_disclosure_control(
    numerator: ArrayLike,
    denominator: ArrayLike,
    groups: ArrayLike | None = None,
    *,
    low: int = 1,
    high: int = 4,
    min_denominator: int = 10,
) -> pd.DataFrame:
    """Per-row disclosure decisions: what to suppress, too few patients, and a status.

    Columns: suppress_numerator, suppress_denominator, too_few, suppress_group_total,
    status.

    A numerator is suppressed if it, its complement (denominator - numerator) or its
    denominator is in [low, high], plus secondary suppression within `groups`; a
    denominator in [low, high] is itself suppressed, with secondary suppression of
    denominators.  too_few: 0 < denominator < min_denominator (no rate shown).
    suppress_group_total: a group containing the row would still give a suppressed value
    away, so no total (at any level) that includes the row may be published.  status is
    the first that applies of "not_available" (numerator or denominator missing),
    "suppressed", "too_few", "published".
    """
    num, den = np.broadcast_arrays(
        np.atleast_1d(np.asarray(numerator, dtype=float)),
        np.atleast_1d(np.asarray(denominator, dtype=float)),
    )
    available = np.isfinite(num) & np.isfinite(den)
    with np.errstate(invalid="ignore"):
        if np.any(available & ((num < 0) | (num > den))):
            raise ValueError("numerator must satisfy 0 <= numerator <= denominator")
        too_few = available & (den > 0) & (den < min_denominator)

    suppress_denominator = primary_suppression(den, low, high)
    suppress_numerator = (
        primary_suppression(num, low, high)
        | complement_suppression(num, den, low, high)
        | suppress_denominator
    )
    # Nothing to hide where there is no value ("not_available" is its own status).
    suppress_numerator &= np.isfinite(num)
    suppress_denominator &= np.isfinite(den)
    suppress_group_total = np.zeros(num.size, dtype=bool)
    if groups is not None:
        # A numerator over a zero denominator is known to be 0: no use as a partner cell.
        partner_num = np.where(den == 0, np.nan, num)
        suppress_numerator = secondary_suppression(partner_num, suppress_numerator, groups)
        suppress_denominator = secondary_suppression(den, suppress_denominator, groups)
        suppress_group_total = groups_needing_total_suppression(
            suppress_numerator, groups, partner_num
        ) | groups_needing_total_suppression(suppress_denominator, groups, den)

    status = np.select(
        [~available, suppress_numerator | suppress_denominator, too_few],
        ["not_available", "suppressed", "too_few"],
        default="published",
    ).astype(object)
    return pd.DataFrame(
        {
            "suppress_numerator": suppress_numerator,
            "suppress_denominator": suppress_denominator,
            "too_few": too_few,
            "suppress_group_total": suppress_group_total,
            "status": status,
        }
    )


def suppress_rows(
    numerator: ArrayLike,
    denominator: ArrayLike,
    relations: list[ArrayLike],
    *,
    already_hidden: ArrayLike | None = None,
    low: int = 1,
    high: int = 4,
    min_denominator: int = 10,
) -> pd.DataFrame:
    """Row decisions for a table of rates where a suppressed row shows neither count: hidden, status.

    A row is hidden when its numerator, its complement or its denominator is in [low, high], or
    when ``already_hidden`` (e.g. the same count is hidden in another published file); hidden rows
    are then protected along every additive relation in ``relations`` (each an array of group labels,
    NaN = in no group), numerators and denominators alike, until stable. Status: not_available
    (a count is missing), suppressed, not_applicable (denominator 0), too_few (denominator under
    ``min_denominator``: counts shown, no rate), published.
    """
    num, den = (np.asarray(a, dtype=float) for a in (numerator, denominator))
    decision = apply_disclosure_control(num, den, low=low, high=high, min_denominator=min_denominator)
    hidden = (decision.suppress_numerator | decision.suppress_denominator).to_numpy()
    if already_hidden is not None:
        hidden |= np.asarray(already_hidden, dtype=bool)
    partner_num = np.where(den == 0, np.nan, num)  # a numerator over a zero denominator is known to be 0
    while True:
        before = hidden.sum()
        for groups in relations:
            hidden = secondary_suppression(partner_num, hidden, groups)
            hidden = secondary_suppression(den, hidden, groups)
        if hidden.sum() == before:
            break
    available = np.isfinite(num) & np.isfinite(den)
    status = np.select([~available, hidden, den == 0, den < min_denominator],
                       ["not_available", "suppressed", "not_applicable", "too_few"], "published").astype(object)
    return pd.DataFrame({"hidden": hidden & available, "status": status})


def hidden_elsewhere(keys: ArrayLike, values: ArrayLike, other_keys: ArrayLike, other_hidden: ArrayLike) -> np.ndarray:
    """True where a row's true value equals a value hidden in another published table under the same key.

    Two files that publish the same count (for the same unit and period) must hide it alike, or one
    file gives away what the other suppressed; equal values under one key are treated as the same count.
    """
    mine = pd.MultiIndex.from_arrays([np.asarray(keys, dtype=object), np.asarray(values, dtype=float)])
    theirs = pd.MultiIndex.from_arrays([np.asarray(other_keys, dtype=object), np.asarray(other_hidden, dtype=float)])
    return mine.isin(theirs) & np.isfinite(np.asarray(values, dtype=float))
