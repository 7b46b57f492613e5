"""The sources' reported numbers — the ONLY place they live in code.

They are shown as the *reference* column beside our results and are never used to compute, tune or select
anything. Every number carries where it comes from (research notes ``../shared/research/sources.md``).
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------- LSTM
#: Thesis raw per-instance IC accuracies (v0–v4) per training-noise σ and class count
#: (sources.md §A.10; thesis tables / inverse_classification_results.py). σ 0 = the "naked" model.
LSTM_NOISE_RUNS = {
    (0.0, 2): [.70, .57, .81, .84, .38], (0.0, 4): [.67, .62, .47, .36, .32], (0.0, 20): [.39, .41, .34, .34, .25],
    (0.1, 2): [.90, .92, .65, .46, .41], (0.1, 4): [.76, .94, .86, .91, .90], (0.1, 20): [.37, .34, .37, .42, .24],
    (0.2, 2): [1, .97, 1, .94, 1], (0.2, 4): [.82, .88, .94, .93, .95], (0.2, 20): [.51, .22, .45, .27, .44],
    (0.3, 2): [1, 1, 1, 1, 1], (0.3, 4): [.87, .92, .96, .95, .93], (0.3, 20): [.65, .42, .33, .33, .41],
    (0.4, 2): [1, 1, 1, 1, 1], (0.4, 4): [.89, .98, .93, .91, .93], (0.4, 20): [.33, .15, .12, .24, .16],
}

#: Blog bar plot "results of the sparse comparison" (sources.md §A.10, read from the vector PDF), mean of 5.
LSTM_SPARSITY_BARS = {
    "sparse1": {2: 1.00, 4: 0.97, 20: 0.62},
    "sparse4": {2: 0.97, 4: 0.94, 20: 0.49},
    "all data": {2: 0.97, 4: 0.93, 20: 0.43},
    "sparse comparison": {2: 0.98, 4: 0.94, 20: 0.61},
    "comparison": {2: 1.00, 4: 0.94, 20: 0.97},
}

#: Thesis raw per-instance accuracies behind the bars (sources.md §A.10); two bars disagree with them (§A.11).
LSTM_SPARSITY_RUNS = {
    ("sparse4", 2): [1, .94, 1, 1, .94], ("sparse4", 4): [.98, .96, .93, .95, 1],
    ("sparse4", 20): [.47, .39, .49, .50, .58],
    ("sparse1", 2): [1, 1, 1, 1, 1], ("sparse1", 4): [.99, .98, .99, .94, .96],
    ("sparse1", 20): [.59, .58, .63, .65, .64],
    ("comparison", 2): [1, 1, 1, 1, 1], ("comparison", 4): [.93, .95, .92, .95, .96],
    ("comparison", 20): [.98, .97, .95, .97, .96],
    ("sparse comparison", 2): [1, .97, .97, .95, 1], ("sparse comparison", 4): [.95, .91, .93, .94, .97],
    ("sparse comparison", 20): [.76, .63, .60, .38, .68],
}

#: Chance level per class count.
CHANCE = {2: 0.5, 4: 0.25, 20: 0.05}

#: Qualitative description of the published heat-map panels (sources.md §A.9, read off the figure).
LSTM_HEATMAP_PANELS = {
    0.0: "near-vertical boundary ('a' whenever the 'b' entry is below ~0.5), far from the diagonal",
    0.1: "sharp step boundary parallel to but above the diagonal ('a' needs a lead of ~0.25)",
    0.2: "boundary close to the diagonal, 1–2 cell transition band",
    0.3: "boundary on the diagonal, one-cell intermediate band",
    0.4: "boundary on the diagonal, broad smooth gradient",
}
