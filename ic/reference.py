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

#: Thesis Table 5.1: mean RMSE between the final class vector (forward models: the softmax output) and the one-hot
#: label (sources.md §A.10; sparse1 from the thesis presentation). The 4-class σ 0 value is 0.35 in Table 4.2.
LSTM_RMSE = {
    2: {"σ 0": .38, "σ 0.1": .30, "σ 0.2": .08, "σ 0.3": .08, "σ 0.4": .12, "sparse4": .13, "sparse1": .13,
        "comparison": .00, "sparse comparison": .11},
    4: {"σ 0": .38, "σ 0.1": .22, "σ 0.2": .22, "σ 0.3": .19, "σ 0.4": .18, "sparse4": .18, "sparse1": .18,
        "comparison": .13, "sparse comparison": .17},
    20: {"σ 0": .20, "σ 0.1": .20, "σ 0.2": .19, "σ 0.3": .18, "σ 0.4": .20, "sparse4": .19, "sparse1": .18,
         "comparison": .05, "sparse comparison": .17},
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

# ---------------------------------------------------------------------------------------------- VAE
# Rezaeifar, Taran & Voloshynovskiy, "Classification by re-generation" (arXiv:1809.03259), Tables I–VI as printed
# (sources.md §C). Units as printed: Acc and rejection in percent, P_miss a fraction (§C.3 item 7); error rates in
# percent. Thr 0 stands for the row "no rejection" (P_miss printed as "-": None here).
#: Table I (MNIST, σ² 1): {dim_z: {Thr: (Acc %, P_miss)}}.
#: §C.3 item 1: dim_z 20 at Thr 15 prints P_miss 0.01, impossible between 0.07 (Thr 10) and 0.13 (Thr 20) since
#: P_miss cannot fall as Thr grows — almost surely 0.10; kept as printed.
VAE_TABLE_I = {
    20: {1: (98.82, 0.012), 5: (99.41, 0.039), 10: (99.69, 0.07), 15: (99.81, 0.01), 20: (99.85, 0.13),
         0: (98.07, None)},
    15: {1: (98.96, 0.009), 5: (99.50, 0.029), 10: (99.73, 0.048), 15: (99.82, 0.065), 20: (99.86, 0.078),
         0: (98.27, None)},
    10: {1: (98.41, 0.048), 5: (98.99, 0.07), 10: (99.24, 0.087), 15: (99.35, 0.1), 20: (99.42, 0.11),
         0: (98.04, None)},
}
#: Table II (MNIST, no rejection): {dim_z: {σ²: Acc %}}. §C.3 item 2: the dim_z 20 column printed "5" is σ² .5.
#: §C.3 item 3: Table I's σ² 1 accuracies do not lie between the σ² .75 and 1.25 values (e.g. dim_z 15: 98.22,
#: 98.27, 98.14) — the trend is within run-to-run noise or the tables come from different runs.
VAE_TABLE_II = {
    10: {0.5: 98.36, 0.75: 98.27, 1.25: 98.17},
    15: {0.5: 98.33, 0.75: 98.22, 1.25: 98.14},
    20: {0.5: 98.10, 0.75: 98.0, 1.25: 97.93},
}
#: Table III (Fashion-MNIST, σ² 1): {dim_z: {Thr: (Acc %, P_miss)}}. §C.3 item 5: dim_z 15 (79.66) vs 20 (89.0) is
#: an implausibly large jump; item 4: Table III's dim_z 15 column looks like Table IV's dim_z 20 and vice versa.
VAE_TABLE_III = {
    25: {1: (92.23, 0.07), 2: (94.34, 0.10), 3: (95.88, 0.13), 4: (96.88, 0.16), 5: (97.5, 0.18), 0: (88.61, None)},
    20: {1: (93.13, 0.068), 2: (94.96, 0.11), 3: (96.15, 0.14), 4: (97.02, 0.16), 5: (97.6, 0.18), 0: (89.0, None)},
    15: {1: (82.89, 0.061), 2: (84.35, 0.099), 3: (85.19, 0.12), 4: (85.71, 0.14), 5: (86.03, 0.16),
         0: (79.66, None)},
}
#: Table IV (Fashion-MNIST, no rejection): {dim_z: {σ²: Acc %}}. "5" printed for .5 (dim_z 20, §C.3 item 2).
#: §C.3 item 4: dim_z 20 (79.36 / 80.96 / 88.33) contradicts the text ("decreasing σ² improves") and Table III
#: (dim_z 20, σ² 1: 89.0); the dim_z 15 and 20 columns look swapped with Table III's.
VAE_TABLE_IV = {
    10: {0.5: 88.7, 0.75: 88.56, 1.25: 88.83},
    15: {0.5: 89.03, 0.75: 89.0, 1.25: 88.84},
    20: {0.5: 79.36, 0.75: 80.96, 1.25: 88.33},
}
#: Table V (MNIST): test error % with N labelled training images ("supervised": all). The proposed model's
#: supervised 1.73 = 100 − 98.27 (Table I, dim_z 15, no rejection).
VAE_TABLE_V = {600: 9.77, 1000: 7.64, 3000: 4.83, "supervised": 1.73}
#: Table V's comparison rows, quoted from other papers by the source (values as printed there; None = "-").
#: §C.3 item 8 / anchors §1.4: the row labelled "M1+M2 [4]" (4.94 / 3.6 / 3.92) is Kingma et al.'s (2014) M2 row;
#: their M1+M2 reads 2.59 / 2.40 / 2.18 at N = 600 / 1000 / 3000.
VAE_TABLE_V_QUOTED = {
    "NN": {600: 11.44, 1000: 10.7, 3000: 6.04, "supervised": None},
    "CNN": {600: 7.57, 1000: 6.45, 3000: 3.35, "supervised": None},
    "TSVM": {600: 6.16, 1000: 5.38, 3000: 3.45, "supervised": None},
    "MTC": {600: 5.13, 1000: 3.64, 3000: 2.57, "supervised": None},
    "M1+M2 (as labelled; Kingma et al.'s M2)": {600: 4.94, 1000: 3.6, 3000: 3.92, "supervised": 0.96},
    "Disentangled": {600: 3.84, 1000: 2.88, 3000: 1.57, "supervised": None},
}
#: Kingma et al. (2014) Table 1, M1+M2 (anchors §1.4), for the check of the row above
KINGMA_M1_M2 = {600: 2.59, 1000: 2.40, 3000: 2.18}
#: Table VI (trained on MNIST, probed with Fashion-MNIST): {Thr: (rejection % of the Fashion-MNIST probes, P_miss)};
#: P_miss is the MNIST test set's (the text points to Table I). §C.3 item 6: close to but not equal to Table I's
#: dim_z 15 P_miss (0.048 / 0.065 / 0.078) — a separate run.
VAE_TABLE_VI = {10: (92.65, 0.048), 15: (95.1, 0.063), 20: (96.4, 0.077), 30: (97.76, 0.1093)}
