import math

from ic.compare import fmt, summarise, verdict


def test_summary_uses_population_std_like_the_sources():
    s = summarise([1.0, 0.0])
    assert s["mean"] == 0.5 and s["std"] == 0.5 and s["n"] == 2
    assert s["ci95"][0] < 0 < 1 < s["ci95"][1]
    assert fmt(s) == "0.50 ± 0.50 (n=2)"
    assert fmt(summarise([])) == "not run yet"


def test_verdict_rule():
    tight = summarise([0.90, 0.91, 0.92, 0.90, 0.91])
    assert verdict(tight, 0.93) == "reproduced"
    assert verdict(tight, 0.80) == "partly"            # 0.11 away
    assert verdict(tight, 0.50) == "not reproduced"    # far, and outside the interval
    wide = summarise([1.0, 1.0, 0.42, 1.0, 0.5])
    assert verdict(wide, 0.98) == "partly"             # 0.2 away but our instances cannot resolve it
    assert verdict(summarise([]), 0.5) == "—"
    assert verdict(tight, None) == "—"
    assert not math.isnan(tight["ci95"][0])
