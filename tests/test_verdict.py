"""The verdict rule: known answers (hand-computed or from an independent formula), one test per rule."""

import itertools
import math

import numpy as np
import pytest

from ic import verdict as V

T_975_2 = 4.302652729911275      # Student t quantile 0.975, 2 degrees of freedom (tables)
FIVE = 5


# ------------------------------------------------------------------------------------------- intervals
def test_t_interval_known_answer():
    iv = V.mean_interval([1.0, 2.0, 3.0])               # mean 2, sd 1, se 1/√3
    half = T_975_2 / math.sqrt(3)
    assert iv.estimate == 2.0
    assert iv.lo == pytest.approx(2 - half) and iv.hi == pytest.approx(2 + half)
    assert V.mean_interval([0.3]).lo != V.mean_interval([0.3]).lo   # one run: no interval (NaN)


def test_welch_interval_matches_the_formula():
    x, y = np.array([0.61, 0.64, 0.70, 0.66]), np.array([0.50, 0.72, 0.58])
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    df = (vx + vy) ** 2 / (vx ** 2 / (len(x) - 1) + vy ** 2 / (len(y) - 1))   # Welch–Satterthwaite
    from scipy.stats import t
    half = t.ppf(0.975, df) * math.sqrt(vx + vy)
    iv = V.welch_interval(x, y)
    d = x.mean() - y.mean()
    assert (iv.lo, iv.hi) == pytest.approx((d - half, d + half))


def test_mcnemar_exact_known_answers():
    # 7 probes only A gets right, 1 only B: p = 2·P(X ≥ 7 | 8, ½) = 2·(8 + 1)/256
    a = np.array([1] * 7 + [0] + [1] * 10 + [0] * 2, bool)
    b = np.array([0] * 7 + [1] + [1] * 10 + [0] * 2, bool)
    iv = V.mcnemar_interval(a, b)
    assert iv.p == pytest.approx(18 / 256)
    assert iv.estimate == pytest.approx(6 / 20)
    assert iv.lo < 0 < iv.hi                      # p > 0.05: the interval contains 0
    a[7], b[7] = True, False                      # 8 to 0: p = 2/256
    iv = V.mcnemar_interval(a, b)
    assert iv.p == pytest.approx(2 / 256) and iv.lo > 0
    # Clopper–Pearson for 8 of 8: [0.025^(1/8), 1], scaled by 8 discordant of 20 probes to the accuracy difference
    assert (iv.lo, iv.hi) == pytest.approx((8 / 20 * (2 * 0.025 ** (1 / 8) - 1), 8 / 20))
    with pytest.raises(ValueError, match="same probes"):
        V.mcnemar_interval(a, b[:-1])


def test_signflip_is_exact_for_few_pairs():
    d = np.array([1.0, 2.0, 3.0, 4.0, -1.0])
    flips = [abs(np.dot(s, np.abs(d))) >= abs(d.sum()) - 1e-12 for s in itertools.product((1, -1), repeat=5)]
    assert V.signflip_p(d) == pytest.approx(np.mean(flips))
    assert V.signflip_p([0.1, 0.2, 0.3, 0.1, 0.2]) == pytest.approx(2 / 2 ** 5)   # its floor at n = 5


# ------------------------------------------------------------------------------------------- level claims
@pytest.mark.parametrize("ours, source, expected", [
    ([0.80, 0.81, 0.82, 0.80, 0.81], 0.82, V.REPRODUCED),       # interval ⊂ 0.82 ± 0.05
    ([0.75, 0.76, 0.77, 0.75, 0.76], 0.80, V.PARTLY),           # excludes 0.80, reaches into 0.75–0.85
    ([0.60, 0.61, 0.62, 0.60, 0.61], 0.80, V.NOT_REPRODUCED),   # wholly below 0.75
    ([0.60, 0.90, 0.70, 1.00, 0.80], 0.80, V.INCONCLUSIVE),     # contains 0.80 and reaches past the margin
])
def test_level_verdicts(ours, source, expected):
    v = V.level(ours, source)
    assert v.verdict == expected
    assert v.n == 5 and v.estimate == pytest.approx(np.mean(ours))
    assert v.std == pytest.approx(np.std(ours, ddof=1))


def test_level_uses_the_sources_runs():
    ours = [0.80, 0.81, 0.79, 0.80, 0.80]
    source_runs = [0.50, 0.90, 0.70, 1.00, 0.90]           # mean 0.80 but widely spread
    assert V.level(ours, 0.80).verdict == V.REPRODUCED      # the mean alone, taken as exact
    v = V.level(ours, source_runs)
    assert v.verdict == V.INCONCLUSIVE and v.method == "Welch t"
    assert v.source_value == pytest.approx(0.80)
    assert v.source_lo < 0.6 and v.source_hi > 1.0          # the source's own interval is reported


def test_level_interval_is_cut_at_the_metrics_range():
    ours = [0.95, 1.00, 1.00, 0.97, 1.00]                  # t-interval [0.956, 1.012]
    v = V.level(ours, 0.96)
    assert v.hi == 1.0 and v.lo == pytest.approx(np.mean(ours) - 2.776445 * np.std(ours, ddof=1) / 5 ** 0.5,
                                                 abs=1e-5)
    assert v.verdict == V.REPRODUCED                        # [0.956, 1] ⊂ 0.96 ± 0.05; uncut it would cross 1.01
    assert V.level([97.0, 99.9, 99.5], 99.0, metric=V.VAE_ACCURACY).hi == 100.0


def test_few_runs_need_an_overwhelming_difference():
    ours = [0.600, 0.601, 0.602]                            # tight: the interval is far from 0.69 ± 0.05
    v = V.level(ours, 0.69)
    assert v.verdict == V.INCONCLUSIVE and "too few runs" in v.note   # runs miss by 0.09 < 2 × 0.05
    v = V.level(ours, 0.75)                                 # every run misses by > 0.1
    assert v.verdict == V.NOT_REPRODUCED and "overwhelming" in v.note
    assert V.level([0.8], 0.8).verdict == V.INCONCLUSIVE     # one run: no interval


def test_zero_spread_and_pending():
    v = V.level([1.0] * 5, [1.0] * 5)
    assert v.verdict == V.REPRODUCED and "zero spread" in v.note and v.lo == v.hi == 1.0
    assert V.level([1.0] * 5, 0.9).verdict == V.NOT_REPRODUCED
    v = V.level([0.8, 0.81, 0.82], 0.8, expected_n=5)
    assert v.verdict == V.PENDING and "3 of 5 runs" in v.note


# ------------------------------------------------------------------------------------------- units
def test_units_are_checked():
    with pytest.raises(ValueError, match="multiply fractions by 100"):
        V.level([0.981, 0.983, 0.982], 98.27, metric=V.VAE_ACCURACY)
    with pytest.raises(ValueError, match="divide percentages by 100"):
        V.level([98.1, 98.3, 98.2], 0.9827)
    with pytest.raises(ValueError, match="P_miss"):
        V.level([4.8, 5.0], 0.048, metric=V.P_MISS)
    with pytest.raises(ValueError):
        V.level([0.8, math.nan, 0.8], 0.8)


def test_the_margin_is_in_the_metrics_unit():
    ours_pct = [97.6, 97.7, 97.65, 97.6, 97.7]             # 0.6 points below 98.27
    assert V.level(ours_pct, 98.27, metric=V.VAE_ACCURACY).verdict == V.NOT_REPRODUCED   # margin 0.5 pp
    ours_frac = [x / 100 for x in ours_pct]
    assert V.level(ours_frac, 0.9827).verdict == V.REPRODUCED                             # margin 0.05
    assert V.level([0.010, 0.012, 0.011, 0.010, 0.012], 0.030, metric=V.P_MISS).verdict == V.NOT_REPRODUCED


def test_claims_table_is_numeric_and_formatted_per_unit():
    rows = [V.level([97.6, 97.7, 97.65, 97.6, 97.7], 98.27, metric=V.VAE_ACCURACY, claim="acc", source_label="p"),
            V.compare([98.3, 98.4, 98.2], [98.0, 98.1, 98.0], 98.33, 98.14, metric=V.VAE_ACCURACY, claim="d")]
    df = V.claims_table(rows)
    assert df["ours"].dtype == float and df["n"].tolist() == [5, 3]
    shown = V.format_claims(df)
    assert shown.loc[0, "source's value"] == "98.27 %" and shown.loc[0, "ours"].startswith("97.65 % ±")
    assert shown.loc[1, "source's value"] == "+0.19 pp"
    assert shown.loc[0, "95 % interval"].startswith("[97.5")


# ------------------------------------------------------------------------------------------- comparisons
def _pairs(diffs, base=(0.5, 0.6, 0.7, 0.55, 0.65)):
    b = np.array(base[:len(diffs)])
    return b + np.array(diffs), b


@pytest.mark.parametrize("diffs, source_diff, expected", [
    ([0.05, 0.06, 0.04, 0.05, 0.07], 0.05, V.SUPPORTS),
    ([-0.05, -0.06, -0.04, -0.05, -0.07], 0.03, V.CONTRADICTS),      # resolved the other way
    ([0.01, -0.01, 0.0, 0.02, -0.02], 0.30, V.CONTRADICTS),          # no advantage as large as the margin
    ([0.02, 0.03, 0.025, 0.02, 0.03], 0.30, V.PARTLY),               # same direction, far smaller
    ([0.01, -0.01, 0.0, 0.02, -0.02], 0.03, V.INCONCLUSIVE),         # source's small δ: cannot tell
    ([0.10, -0.10, 0.20, -0.05, 0.0], 0.05, V.INCONCLUSIVE),
])
def test_beats_verdicts(diffs, source_diff, expected):
    a, b = _pairs(diffs)
    v = V.compare(a, b, 0.5 + source_diff, 0.5)
    assert v.verdict == expected and v.estimate == pytest.approx(np.mean(diffs))
    # the same claim stated the other way round ("B is beaten by A" = B − A with a negative δ)
    assert V.compare(b, a, 0.5, 0.5 + source_diff).verdict == expected


def test_comparisons_are_paired():
    a, b = _pairs([0.03] * 4 + [0.031])             # runs spread 0.5–0.9, the difference is steady
    assert V.compare(a, b, 0.75, 0.72).verdict == V.SUPPORTS
    assert V.welch_interval(a, b).lo < 0            # unpaired, the same runs would not resolve it
    keys = ["s3", "s0", "s1", "s4", "s2"]
    a_map, b_map = dict(zip(keys, a)), dict(zip(reversed(keys), reversed(b)))
    v = V.compare(a_map, b_map, 0.75, 0.72)
    assert v.estimate == pytest.approx(np.mean(a - b)) and v.std == pytest.approx(np.std(a - b, ddof=1))
    with pytest.raises(ValueError, match="same keys"):
        V.compare(a_map, {**b_map, "s9": 0.5}, 0.75, 0.72)


def test_equal_claims():
    a, b = _pairs([0.01, -0.01, 0.0, 0.02, -0.01])
    assert V.compare(a, b, 0.62, 0.61, kind=V.EQUAL).verdict == V.SUPPORTS
    a, b = _pairs([0.20, 0.21, 0.19, 0.20, 0.22])
    assert V.compare(a, b, 0.62, 0.61, kind=V.EQUAL).verdict == V.CONTRADICTS


def test_few_pairs_do_not_contradict():
    a, b = _pairs([-0.05, -0.06, -0.04])
    v = V.compare(a, b, 0.53, 0.50)
    assert v.verdict == V.INCONCLUSIVE and "too few runs" in v.note
    a, b = _pairs([-0.20, -0.21, -0.22])            # each pair misses +0.03 by more than 2 × 0.05
    assert V.compare(a, b, 0.53, 0.50).verdict == V.CONTRADICTS


def test_mcnemar_comparisons():
    def probes(wins, losses, both=800):
        a = np.r_[np.ones(wins), np.zeros(losses), np.ones(both), np.zeros(1000 - wins - losses - both)]
        b = np.r_[np.zeros(wins), np.ones(losses), np.ones(both), np.zeros(1000 - wins - losses - both)]
        return a.astype(bool), b.astype(bool)

    def exact_p(w, n):                                      # two-sided binomial test at ½, by hand
        return min(1.0, 2 * sum(math.comb(n, k) for k in range(max(w, n - w), n + 1)) / 2 ** n)

    v = V.compare_probes(*probes(60, 40), 0.73, 0.72)
    assert v.p == pytest.approx(exact_p(60, 100)) and v.p > 0.05 and v.verdict == V.INCONCLUSIVE
    v = V.compare_probes(*probes(65, 35), 0.73, 0.72)
    assert v.p == pytest.approx(exact_p(65, 100)) and v.p < 0.05 and v.verdict == V.SUPPORTS
    assert v.estimate == pytest.approx(0.03) and v.n == 1000
    assert V.compare_probes(*probes(35, 65), 0.73, 0.72).verdict == V.CONTRADICTS
    # the same probes judged in percent: the same verdict and p, the difference in percentage points
    pc = V.compare_probes(*probes(65, 35), 73.0, 72.0, metric=V.VAE_ACCURACY)
    assert pc.verdict == v.verdict and pc.p == v.p and pc.estimate == pytest.approx(3.0)
    assert (pc.lo, pc.hi) == pytest.approx((100 * v.lo, 100 * v.hi))
    with pytest.raises(ValueError, match="multiply fractions by 100"):
        V.compare_probes(*probes(65, 35), 0.73, 0.72, metric=V.VAE_ACCURACY)


# ------------------------------------------------------------------------------------------- multiplicity
AHEAD = [-0.005, -0.035, -0.02, -0.01, -0.03]      # t ≈ −3.5: beyond t(0.975, 4) = 2.78, within t(0.99375, 4) = 4.60
BEHIND = [0.03, 0.05, 0.04, 0.035, 0.045]


def _settings(rival_diffs):
    x = np.array([0.70, 0.72, 0.71, 0.69, 0.73])
    ours = {"X": x, **{f"Y{i}": x - np.array(d) for i, d in enumerate(rival_diffs)}}
    source = {"X": 0.72, **{f"Y{i}": 0.70 for i in range(len(rival_diffs))}}
    return ours, source


def test_best_supported_needs_every_rival_and_no_adjustment():
    steady = [0.005, 0.035, 0.02, 0.01, 0.03]       # each rival behind at 95 %, not at 98.75 %
    ours, source = _settings([steady] * 4)
    v = V.best(ours, source, "X")
    assert v.verdict == V.SUPPORTS and len(v.details) == 4
    ours, source = _settings([steady] * 3 + [[0.01, -0.01, 0.0, 0.02, -0.01]])
    assert V.best(ours, source, "X").verdict == V.INCONCLUSIVE


def test_best_contradiction_is_adjusted_for_the_number_of_rivals():
    ours, source = _settings([AHEAD])               # one rival: read at 95 % → contradicts
    assert V.best(ours, source, "X").verdict == V.CONTRADICTS
    ours, source = _settings([AHEAD, BEHIND, BEHIND, BEHIND])   # four rivals: read at 98.75 % → not resolved
    v = V.best(ours, source, "X")
    assert v.verdict == V.INCONCLUSIVE
    assert [d.verdict for d in v.details] == [V.INCONCLUSIVE, V.SUPPORTS, V.SUPPORTS, V.SUPPORTS]
    assert "closest rival: Y0" in v.note and "our best: Y0" in v.note
    far = [d - 0.02 for d in AHEAD]                  # clearly ahead even at 98.75 %
    ours, source = _settings([far, BEHIND, BEHIND, BEHIND])
    assert V.best(ours, source, "X").verdict == V.CONTRADICTS
    with pytest.raises(ValueError, match="does not rank"):
        V.best(ours, {**source, "Y1": 0.75}, "X")


def test_best_from_probes():
    rng = np.random.default_rng(0)
    x = rng.random(2000) < 0.75
    ours = {"X": x, "Y": x & (rng.random(2000) < 0.9), "Z": x & (rng.random(2000) < 0.95)}
    v = V.best(ours, {"X": 0.75, "Y": 0.70, "Z": 0.72}, "X", probes=True)
    assert v.verdict == V.SUPPORTS and v.method == "McNemar exact"


def test_best_with_an_untestable_rival_is_never_supported():
    steady = [0.005, 0.035, 0.02, 0.01, 0.03]
    ours, source = _settings([steady] * 4)
    v = V.best(ours, source, "X", untestable={"Y3": "its model did not train"})
    assert v.verdict == V.INCONCLUSIVE and "not testable: Y3" in v.note
    assert [d.verdict for d in v.details] == [V.SUPPORTS] * 3 + [V.INCONCLUSIVE]
    assert v.details[3].note == "its model did not train" and v.details[3].estimate > 0   # numbers still shown
    far = [d - 0.02 for d in AHEAD]                 # the other rivals can still contradict the claim
    ours, source = _settings([far, BEHIND, BEHIND, BEHIND])
    assert V.best(ours, source, "X", untestable={"Y3": "failed"}).verdict == V.CONTRADICTS
    with pytest.raises(ValueError, match="untestable"):
        V.best(ours, source, "X", untestable={"X": "failed"})


# ------------------------------------------------------------------------------------------- the rule's text
def test_rule_text_and_verdicts_follow_the_same_constants(monkeypatch):
    text = V.rule_text()
    assert "fewer than 5" in text and "2 × *m*" in text and "95 %" in text and "0.0625" in text
    ours = [0.600, 0.601, 0.602, 0.600, 0.601]
    assert V.level(ours, 0.69).verdict == V.NOT_REPRODUCED
    monkeypatch.setattr(V, "MIN_N_NEGATIVE", 6)
    monkeypatch.setattr(V, "OVERWHELMING", 3.0)
    text = V.rule_text()
    assert "fewer than 6" in text and "3 × *m*" in text
    assert V.level(ours, 0.69).verdict == V.INCONCLUSIVE


def test_metrics_table_states_every_margin():
    table = V.metrics_table()
    assert table["margin m"].tolist() == ["0.05", "0.5 pp", "0.01"]
    assert table["why this margin"].str.len().min() > 20


def test_the_book_shows_the_current_rule_once():
    """The executed page "How we judge" shows every section of the rule exactly once, as the constants write it
    now (re-execute it with `make notebooks NB=notebooks/how_we_judge.ipynb` after changing the rule)."""
    import json
    from pathlib import Path

    page = Path(__file__).resolve().parent.parent / "book" / "how_we_judge.ipynb"
    cells = json.loads(page.read_text(encoding="utf-8"))["cells"]
    shown = ["".join(o.get("data", {}).get("text/markdown", "")) for c in cells if c["cell_type"] == "code"
             for o in c.get("outputs", [])]
    for name, text in V.rule_sections().items():
        assert shown.count(text) == 1, f"section {name!r} of the rule is stale or repeated in {page.name}"


def test_best_accepts_runs_keyed_by_unit():
    """'best' takes per-setting runs as mappings unit → value (paired by key), like compare."""
    ours = {"a": {0: 0.9, 1: 0.92, 2: 0.91}, "b": {0: 0.5, 1: 0.52, 2: 0.49}}
    v = V.best(ours, {"a": 0.9, "b": 0.5}, "a")
    assert v.verdict == V.SUPPORTS and v.estimate > 0.3


def test_level_on_a_probe_subset_counts_the_probe_sampling_error():
    # three seeds that agree on every probe: no spread between seeds, but 1 000 probes only estimate the accuracy
    run = np.r_[np.ones(900), np.zeros(100)].astype(bool)
    v = V.level_probes([run, run, run], 90.0, metric=V.VAE_ACCURACY)
    assert v.estimate == pytest.approx(90.0) and v.n == 1000 and math.isnan(v.std) and "1000 probes" in v.note
    assert v.hi - v.lo == pytest.approx(2 * 1.96 * math.sqrt(0.09 / 1000) * 100, rel=0.01)
    assert v.verdict == V.INCONCLUSIVE                 # ± 1.9 pp: cannot tell 90.0 within the 0.5 pp margin
    assert V.level_probes([run] * 3, 85.0, metric=V.VAE_ACCURACY).verdict == V.NOT_REPRODUCED
    assert V.level_probes([run], 0.9, metric=V.ACCURACY).verdict == V.REPRODUCED      # fractions, margin 0.05
    with pytest.raises(ValueError, match="same probes"):
        V.level_probes([run, run[:10]], 90.0, metric=V.VAE_ACCURACY)
