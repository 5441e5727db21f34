import itertools

import numpy as np
import pandas as pd
import pytest

from naome_report.stats.disclosure import (
    _group_levels,
    apply_disclosure_control,
    complement_suppression,
    groups_needing_total_suppression,
    primary_suppression,
    secondary_suppression,
)

# --------------------------------------------------------------------------- brute force


def _components(levels, size):
    """Rows linked through any shared group (union-find)."""
    parent = list(range(size))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for codes in levels:
        for code in set(codes[codes >= 0].tolist()):
            members = np.flatnonzero(codes == code)
            for other in members[1:]:
                parent[find(other)] = find(members[0])
    comps = {}
    for i in range(size):
        comps.setdefault(find(i), []).append(i)
    return list(comps.values())


def _enumerate_kind(kind, rows, values, hidden, groups, other, other_hidden, cap, limit):
    """All assignments of one kind's hidden cells (numerators or denominators) that meet that
    kind's group totals and the bound against the other kind where the other is published."""
    v = values[kind]
    cells = [i for i in rows if hidden[kind][i]]
    if not cells:
        return cells, np.zeros((1, 0), dtype=np.int64)
    bounds = []
    for i in cells:
        in_groups = [(c, g) for c, g in groups if c[i] == g]
        if in_groups:
            bound = min(
                v[(c == g) & np.isfinite(v)].sum() - v[(c == g) & np.isfinite(v) & ~hidden[kind]].sum()
                for c, g in in_groups
            )
        else:
            bound = cap
        if kind == "num" and np.isfinite(other[i]) and not other_hidden[i]:
            bound = min(bound, other[i])
        bounds.append(int(bound))
    if np.prod([b + 1 for b in bounds], dtype=float) > limit:
        raise AssertionError("table too large for brute force")
    grid = np.stack(
        [g.ravel() for g in np.meshgrid(*[np.arange(b + 1) for b in bounds], indexing="ij")], axis=1
    )
    ok = np.ones(len(grid), dtype=bool)
    for codes, code in groups:
        members = (codes == code) & np.isfinite(v)
        cols = [j for j, i in enumerate(cells) if members[i]]
        if cols:
            ok &= v[members & ~hidden[kind]].sum() + grid[:, cols].sum(axis=1) == v[members].sum()
    if kind == "den":
        for j, i in enumerate(cells):
            if np.isfinite(other[i]) and not other_hidden[i]:
                ok &= grid[:, j] >= other[i]
    return cells, grid[ok]


def brute_force_feasible(num, den, hidden_num, hidden_den, levels, cap=40, limit=2_000_000):
    """Every value each hidden cell can take in a table of non-negative integers that agrees
    with all published cells, every published group total of numerators and of
    denominators, and numerator <= denominator in every row.
    Returns {("num" | "den", row): set of values}.  Levels are arrays of group codes
    (-1 = no group); a cell in no group is searched up to `cap`."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    values = {"num": num, "den": den}
    hidden = {"num": hidden_num & np.isfinite(num), "den": hidden_den & np.isfinite(den)}
    feasible = {}
    for rows in _components(levels, num.size):
        groups = [(c, g) for c in levels for g in set(c[rows].tolist()) if g >= 0]
        num_cells, num_grid = _enumerate_kind(
            "num", rows, values, hidden, groups, den, hidden["den"], cap, limit
        )
        den_cells, den_grid = _enumerate_kind(
            "den", rows, values, hidden, groups, num, hidden["num"], cap, limit
        )
        # Join: numerator <= denominator where both are hidden.
        ok = np.ones((len(num_grid), len(den_grid)), dtype=bool)
        for a, i in enumerate(num_cells):
            if i in den_cells:
                b = den_cells.index(i)
                ok &= num_grid[:, a][:, None] <= den_grid[:, b][None, :]
        num_ok, den_ok = ok.any(axis=1), ok.any(axis=0)
        for a, i in enumerate(num_cells):
            feasible[("num", i)] = set(num_grid[num_ok, a].tolist())
        for b, i in enumerate(den_cells):
            feasible[("den", i)] = set(den_grid[den_ok, b].tolist())
    return feasible


def assert_nothing_recoverable(num, den, groups, result):
    """No suppressed cell (or complement) is pinned down by the published table and totals."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    levels = _group_levels(groups, num.size) if groups is not None else []
    # Group totals the result says must be withheld are not published.
    withheld = result["suppress_group_total"].to_numpy()
    levels = [np.where(np.isin(c, np.unique(c[withheld & (c >= 0)])), -1, c) for c in levels]
    hidden_num = result["suppress_numerator"].to_numpy()
    hidden_den = result["suppress_denominator"].to_numpy()
    feasible = brute_force_feasible(num, den, hidden_num, hidden_den, levels)
    for (kind, i), options in feasible.items():
        truth = num[i] if kind == "num" else den[i]
        assert truth in options, "checker lost the true table"
        assert len(options) > 1, f"{kind} of row {i} ({truth:g}) is recoverable"
    # Published cells disclose no small count, directly or as a complement.
    shown = np.isfinite(num) & np.isfinite(den) & ~hidden_num & ~hidden_den
    assert not np.any(primary_suppression(num[~hidden_num]))
    assert not np.any(primary_suppression(den[~hidden_den]))
    assert not np.any(complement_suppression(num[shown], den[shown]))
    return feasible


def test_brute_force_checker_catches_a_lone_suppression():
    # Sanity check of the checker itself: one hidden cell under a published total is recovered.
    levels = [np.array([0, 0, 0])]
    feasible = brute_force_feasible(
        [3, 12, 20], [40, 30, 25], np.array([True, False, False]), np.zeros(3, bool), levels
    )
    assert feasible[("num", 0)] == {3}


# --------------------------------------------------------------------------- primitives


def test_primary_suppression():
    counts = [0, 1, 2, 3, 4, 5, np.nan, 10]
    assert primary_suppression(counts).tolist() == [False, True, True, True, True, False, False, False]
    assert primary_suppression(counts, low=1, high=9).tolist()[-1] is False
    assert primary_suppression([]).shape == (0,)


def test_complement_suppression():
    # complements: 10-9=1, 10-6=4, 10-5=5, 10-10=0, missing
    flags = complement_suppression([9, 6, 5, 10, np.nan], [10, 10, 10, 10, 10])
    assert flags.tolist() == [True, True, False, False, False]


def test_secondary_suppression_smallest_partner_first_on_ties():
    values = [3, 9, 6, 6, 20]
    suppressed = [True, False, False, False, False]
    groups = ["x"] * 5
    # 6 at positions 2 and 3 tie: position 2 is taken.
    assert secondary_suppression(values, suppressed, groups).tolist() == [True, False, True, False, False]


def test_secondary_suppression_skips_zero_and_missing_partners_when_it_can():
    values = [2, 0, np.nan, 7, 5]
    groups = ["x", "x", "x", "x", np.nan]  # last row is in no group
    out = secondary_suppression(values, [True, False, False, False, True], groups)
    assert out.tolist() == [True, False, False, True, True]
    # Only a zero is left: it is used.
    assert secondary_suppression([2, 0], [True, False], ["x", "x"]).tolist() == [True, True]


def test_secondary_suppression_leaves_groups_with_zero_or_two_plus():
    values = [2, 3, 10, 50, 60]
    out = secondary_suppression(values, [True, True, False, False, False], ["x"] * 3 + ["y"] * 2)
    assert out.tolist() == [True, True, False, False, False]
    assert secondary_suppression([], [], []).shape == (0,)


def test_secondary_suppression_nested_levels_repeat_until_stable():
    # Trusts a..e; level 1: g0 = {a}, g1 = {c, d}, e in none; level 2 (nation) P = {a, c, d, e}.
    # a = 2 is suppressed.  g0 has no one else, so the nation total is what exposes a:
    # pass 1, level 2 -> smallest other in P is c (5); pass 2, level 1 -> c alone in g1 -> d.
    values = [2, 40, 5, 9, 30]
    levels = [["g0", np.nan, "g1", "g1", np.nan], ["P", np.nan, "P", "P", "P"]]
    out = secondary_suppression(values, [True, False, False, False, False], levels)
    assert out.tolist() == [True, False, True, True, False]
    frame_levels = pd.DataFrame({"trust": levels[0], "nation": levels[1]})
    assert secondary_suppression(values, [True, False, False, False, False], frame_levels).tolist() == out.tolist()
    # g0's own total would still be a's value.
    assert groups_needing_total_suppression(out, levels).tolist() == [True, False, False, False, False]
    result = apply_disclosure_control(values, [50, 60, 70, 80, 90], levels)
    assert result["suppress_numerator"].tolist() == [True, False, True, True, False]
    assert_nothing_recoverable(values, [50, 60, 70, 80, 90], levels, result)


def test_secondary_suppression_rejects_cross_classified_levels():
    # Rows r1, r1, r2, r2 crossed with columns c1, c2, c1, c2: not nested.
    levels = [["r1", "r1", "r2", "r2"], ["c1", "c2", "c1", "c2"]]
    with pytest.raises(ValueError, match="nested"):
        secondary_suppression([2, 10, 7, 20], [True, False, False, False], levels)


def test_secondary_suppression_gives_all_zero_suppressions_a_non_zero_partner():
    # 0 of 2 and 0 of 1: numerators hidden because the denominators are small.  Hidden sum 0
    # would show both are 0, so the smallest non-zero numerator (6) joins them.
    out = secondary_suppression([0, 0, 0, 6, 9], [True, True, False, False, False], ["x"] * 5)
    assert out.tolist() == [True, True, False, True, False]


def test_groups_needing_total_suppression():
    flags = groups_needing_total_suppression([True, False, True, True, False], ["x", "x", "y", "y", np.nan])
    assert flags.tolist() == [True, True, False, False, False]
    # With values: a member without a value hides nothing; an all-zero hidden total exposes.
    flags = groups_needing_total_suppression(
        [True, True, True, True, False], ["x", "x", "y", "y", "y"], [3, np.nan, 0, 0, 0]
    )
    assert flags.tolist() == [True, True, True, True, True]


# --------------------------------------------------------------------------- whole tables


def test_hand_worked_single_group():
    # Nation total of numerators 3+12+20+7+15 = 57 is published.
    # A = 3 is suppressed; alone in the group, so the smallest other (D = 7) is too.
    # The total then gives A + D = 57 - 47 = 10: 11 possibilities, neither recoverable.
    num = [3, 12, 20, 7, 15]
    den = [40, 30, 25, 50, 60]
    result = apply_disclosure_control(num, den, ["X"] * 5)
    assert result["suppress_numerator"].tolist() == [True, False, False, True, False]
    assert result["status"].tolist() == ["suppressed", "published", "published", "suppressed", "published"]
    feasible = assert_nothing_recoverable(num, den, ["X"] * 5, result)
    assert feasible[("num", 0)] == set(range(0, 11))


def test_hand_worked_mixed_table():
    #      num  den  group  why
    # r0    48   50  X      complement 2 -> suppressed
    # r1     9    9  X      denominator < 10 -> too few (complement 0 is not small)
    # r2     6   30  X      partner for r0: smallest of 9, 6, 6 -> the first 6
    # r3     6   40  X      tie, later position: published
    # r4     0   12  Y      zero numerator published (zeros are partners only as a last
    #                       resort); its denominator 12 is the partner for r5's denominator
    # r5     2    3  Y      numerator 2 and denominator 3 both suppressed
    # r6   nan   20  Y      not available
    # r7    15   35  Y      partner for r5's numerator: smallest non-zero of 0, 15 -> 15
    # r8     1   20  -      suppressed; no published total to protect against
    num = [48, 9, 6, 6, 0, 2, np.nan, 15, 1]
    den = [50, 9, 30, 40, 12, 3, 20, 35, 20]
    groups = ["X", "X", "X", "X", "Y", "Y", "Y", "Y", np.nan]
    result = apply_disclosure_control(num, den, groups)
    assert result["suppress_numerator"].tolist() == [True, False, True, False, False, True, False, True, True]
    assert result["suppress_denominator"].tolist() == [False, False, False, False, True, True, False, False, False]
    assert result["too_few"].tolist() == [False, True, False, False, False, True, False, False, False]
    assert result["status"].tolist() == [
        "suppressed", "too_few", "suppressed", "published", "suppressed", "suppressed",
        "not_available", "suppressed", "suppressed",
    ]
    assert not result["suppress_group_total"].any()
    feasible = assert_nothing_recoverable(num, den, groups, result)
    # X: r0 + r2 = 69 - 15 = 54 with r0 <= 50, r2 <= 30 -> r0 in 24..50.
    assert feasible[("num", 0)] == set(range(24, 51))
    # Y: r5 + r7 = 17 - 0 = 17; r4 + r5 denominators = 70 - 55 = 15 -> r5 in 0..15.
    assert feasible[("num", 5)] == set(range(0, 16))


def test_missing_value_is_no_protection():
    # r3 has no numerator: it is in no published total, so r0 still needs a partner.
    num = [3, 6, 11, np.nan]
    den = [9, 11, 16, 1]
    result = apply_disclosure_control(num, den, ["g"] * 4)
    assert result["suppress_numerator"].tolist() == [True, True, False, False]
    assert result["status"].tolist()[3] == "not_available"
    assert_nothing_recoverable(num, den, ["g"] * 4, result)


def test_zero_denominator_row_is_no_partner():
    # r1 has 0 of 0: its numerator is known to be 0, so hiding it would protect nothing.
    num = [2, 0, 8, 9]
    den = [20, 0, 30, 40]
    result = apply_disclosure_control(num, den, ["X"] * 4)
    assert result["suppress_numerator"].tolist() == [True, False, True, False]
    assert result["too_few"].tolist() == [False, False, False, False]  # 0 is not "too few"
    assert_nothing_recoverable(num, den, ["X"] * 4, result)


def test_group_that_cannot_be_protected_withholds_its_total():
    # Z has one member: its total is the suppressed value itself.
    result = apply_disclosure_control([3, 12, 20], [20, 30, 25], ["Z", "W", "W"])
    assert result["suppress_group_total"].tolist() == [True, False, False]


def test_without_groups_and_thresholds():
    result = apply_disclosure_control([0, 4, 5, 3], [8, 40, 40, 12], low=1, high=5, min_denominator=12)
    assert result["suppress_numerator"].tolist() == [False, True, True, True]
    assert result["too_few"].tolist() == [True, False, False, False]
    assert result["status"].tolist() == ["too_few", "suppressed", "suppressed", "suppressed"]


def test_empty_and_invalid():
    empty = apply_disclosure_control([], [])
    assert empty.empty and {"suppress_numerator", "too_few", "status"} <= set(empty.columns)
    with pytest.raises(ValueError):
        apply_disclosure_control([5], [4])


def test_random_tables_never_disclose_by_subtraction():
    rng = np.random.default_rng(2024)
    small = np.array([0, 1, 2, 3, 4, 5, 6, 8, 11])
    checked = 0
    for _ in range(80):
        sizes = rng.integers(2, 5, size=rng.integers(2, 4))
        labels = list(itertools.chain.from_iterable([f"g{g}"] * s for g, s in enumerate(sizes)))
        labels += [np.nan] * int(rng.integers(0, 2))
        rows = len(labels)
        num = rng.choice(small, size=rows).astype(float)
        den = num + rng.choice(small, size=rows)
        num[rng.random(rows) < 0.05] = np.nan
        result = apply_disclosure_control(num, den, labels)
        assert_nothing_recoverable(num, den, labels, result)
        checked += 1
    assert checked == 80


def test_random_nested_tables_never_disclose_by_subtraction():
    # Trusts in alliances (level 1) in nations (level 2); some trusts in no alliance.
    rng = np.random.default_rng(77)
    small = np.array([0, 1, 2, 3, 4, 6, 9])
    for _ in range(40):
        sizes = rng.integers(1, 4, size=rng.integers(2, 4))
        alliance = list(itertools.chain.from_iterable([f"a{g}"] * s for g, s in enumerate(sizes)))
        nation_of = {f"a{g}": f"n{int(rng.integers(0, 2))}" for g in range(len(sizes))}
        nation = [nation_of[a] for a in alliance]
        extra = int(rng.integers(0, 2))
        alliance += [np.nan] * extra
        nation += ["n0"] * extra
        rows = len(alliance)
        num = rng.choice(small, size=rows).astype(float)
        den = num + rng.choice(small, size=rows)
        levels = [alliance, nation]
        result = apply_disclosure_control(num, den, levels)
        assert_nothing_recoverable(num, den, levels, result)
