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

# Settings the thesis chose (not results): they define some of our jobs, so they live beside its numbers.
#: the thesis's best training-noise level per class count, used for 'all data', 'sparse1' and 'sparse4' (§A.3)
LSTM_BEST_SIGMA = {2: 0.4, 4: 0.4, 20: 0.3}
#: the thesis's training epochs at batch 1: 2000 / k (§A.5)
LSTM_THESIS_EPOCHS = {2: 1000, 4: 500, 20: 100}

# ---------------------------------------------------------------------------------------------- cGAN
# Hobbhahn (2020), blog tables = notebook img/IC_GANs/IC_GAN_results.ipynb (sources.md §B.6): per-run accuracies
# of 5 IC repeats (different noise initialisations, one generator per noise size) on the 10 000 MNIST test images.
#: Table 1 — noise size nz (α 1, no late update)
CGAN_NOISE_SIZE_RUNS = {
    10: [.6606, .6627, .6670, .6629, .6618],
    25: [.7099, .7152, .7072, .7102, .7135],
    50: [.6874, .6759, .6794, .6785, .6857],
    100: [.6767, .6725, .6739, .6717, .6782],
    200: [.6494, .6599, .6657, .6569, .6578],
}
#: Table 2 — noise update rate α (nz 25); α 1 is the nz 25 row of Table 1
CGAN_UPDATE_RATE_RUNS = {
    1.0: CGAN_NOISE_SIZE_RUNS[25],
    0.5: [.7201, .7252, .7273, .7248, .7246],
    0.1: [.6510, .6441, .6424, .6498, .6460],
    2.0: [.6810, .6817, .6832, .6713, .6847],
}
#: Table 3 — late noise update "after k" (nz 25, α 1); k 1 and 100 are in the notebook but not the blog
CGAN_LATE_UPDATE_RUNS = {
    1: [.7233, .7206, .7238, .7157, .7211],
    2: [.7186, .7246, .7315, .7279, .7238],
    5: [.7315, .7265, .7211, .7279, .7234],
    10: [.7252, .7248, .7345, .7258, .7279],
    25: [.7246, .7193, .7168, .7293, .7258],
    50: [.7131, .7156, .7160, .7176, .7124],
    100: [.6962, .7009, .7041, .7031, .7030],
}
CGAN_LATE_UPDATE_PUBLISHED = (2, 5, 10, 25, 50)
#: the epochs the author picked by eye from sample grids, per noise size (checkpoint file names)
CGAN_PICKED_EPOCH = {10: 27, 25: 30, 50: 24, 100: 36, 200: 51}
CGAN_EPOCHS = 61
CGAN_PROBES = 10_000
