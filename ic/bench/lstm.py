"""The LSTM study's benchmark: ``python -m ic bench lstm [--device D] [--seconds S] [--threads N]``.

Production shapes, on one device in one run, with the real ``GenerativeLSTM`` (hidden 205, 205 steps) at k = 20
classes, randomly initialised, on synthetic data (random one-hot classes, N(0, 1) trajectories like the
standardised ones; the speed depends on the shapes, not on the values):

* **inverse classification** of a whole 20-class test split (286 probes) at the study's 200 iterations (source
  Adam, lr 0.05) through :func:`ic.engine.invert`, timed over ``ic_timed_iterations`` and scaled to 200:
  the source-style loop (one probe per call through ``torch.nn.LSTM`` on the full input sequence, the
  baseline), all probes in one call through ``torch.nn.LSTM`` (the batched engine before the class-start
  kernel), and all probes in one call through ``GenerativeLSTM.generate`` (the study's path);
* **training** throughput of the study's loss (σ-noise on the input sequence, MSE, Adam) through
  :func:`ic.train.fit`: batch 1 (the thesis's per-sample loop, the baseline), 16 (the paper profile), 64.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from ..device import choose_device
from ..engine import ICConfig, class_only_generator, class_only_groups, invert
from ..lstm.models import GenerativeLSTM
from ..lstm.preprocess import SEQ_LEN
from ..train import FitConfig, fit
from .common import RECORD_DIR, Row, finish, measure, measure_peaks

TEST_PROBES_20 = 286        # the 20-class test split (20 % of the first 20 classes' 1429 labelled recordings)


def _synthetic(n: int, k: int, seq_len: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    cls = F.one_hot(torch.randint(0, k, (n,), generator=g), k).float()
    return cls, torch.randn(n, seq_len, 2, generator=g)


def _train_row(batch: int, *, device, seconds, k, hidden, seq_len, sigma, lr, steps, seed) -> Row:
    torch.manual_seed(seed)
    model = GenerativeLSTM(k, hidden=hidden, seq_len=seq_len)
    cls, traj = _synthetic(batch * steps, k, seq_len, seed)
    noise_gen = torch.Generator().manual_seed(seed + 1)

    def loss_fn(m, b):   # the study's generator loss (ic.lstm.execute)
        c, target = b
        return ((m(m.noisy_input_sequence(c, sigma, False, generator=noise_gen)) - target) ** 2).mean()

    cfg = FitConfig(epochs=1, batch_size=batch, lr=lr, max_steps=steps)
    label = "train, per-sample loop (batch 1)" if batch == 1 else f"train, minibatch {batch}"
    run = lambda: fit(model, (cls, traj), loss_fn, cfg, seed=seed, device=device)  # noqa: E731
    return measure(f"train_batch{batch}", label, run, device=device, seconds=seconds, items_per_call=batch * steps,
                   unit="seq/s", peak_shape=(batch, hidden, 4 * hidden), baseline="train_batch1", steps_per_call=steps,
                   batch=batch)


def _ic_row(name: str, label: str, batch: int, kernel: str, *, device, seconds, k, hidden, seq_len, iterations,
            timed_iterations, seed, notes: str = "") -> Row:
    torch.manual_seed(seed)
    model = GenerativeLSTM(k, hidden=hidden, seq_len=seq_len).to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    generate = model.generate if kernel == "class_start" else lambda c: model(model.input_sequence(c))
    probes = _synthetic(batch, k, seq_len, seed)[1].to(device)
    gen, groups = class_only_generator(generate), class_only_groups(k)
    cfg = ICConfig(iterations=timed_iterations, lr=0.05, optimizer="source_adam")
    return measure(name, label, lambda: invert(gen, probes, groups, cfg, seed=seed), device=device, seconds=seconds,
                   items_per_call=batch * timed_iterations / iterations, unit="probes/s",
                   peak_shape=(batch, hidden, 4 * hidden), baseline="ic_loop", notes=notes, probes=batch,
                   kernel=kernel, timed_iterations=timed_iterations, iterations=iterations)


def bench_lstm(device: str | torch.device | None = None, seconds: float = 5.0, *, k: int = 20, hidden: int = 205,
               seq_len: int = SEQ_LEN, n_probes: int = TEST_PROBES_20, ic_iterations: int = 200,
               ic_timed_iterations: int = 5, train_batch_sizes: tuple[int, ...] = (1, 16, 64), train_steps: int = 4,
               sigma: float = 0.2, lr: float = 1e-2, seed: int = 0, threads: int | None = None,
               verbose: bool = True, record_dir: Path | None = RECORD_DIR) -> dict:
    """Run the LSTM benchmark; returns the record (see :func:`ic.bench.common.finish`). ``threads`` sets torch's
    CPU threads for the run; ``record_dir=None``: write no record."""
    dev = device if isinstance(device, torch.device) else choose_device(device)
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        shape = dict(device=dev, seconds=seconds, k=k, hidden=hidden, seq_len=seq_len, seed=seed)
        ic_kw = dict(iterations=ic_iterations, timed_iterations=min(ic_timed_iterations, ic_iterations), **shape)
        sizes = tuple(dict.fromkeys((1, *train_batch_sizes)))     # the per-sample loop is always the baseline
        peaks_before = measure_peaks({((b, hidden, 4 * hidden), "float32") for b in (1, n_probes, *sizes)}, dev,
                                     seconds=min(seconds, 1.0))
        rows = [
            _ic_row("ic_loop", f"IC {ic_iterations} it, source-style loop (1 probe, nn.LSTM)", 1, "nn_lstm", **ic_kw),
            _ic_row("ic_batched_nn_lstm", f"IC {ic_iterations} it, {n_probes} probes, nn.LSTM", n_probes, "nn_lstm",
                    notes="the batched engine through torch.nn.LSTM on the full input sequence (before)", **ic_kw),
            _ic_row("ic_batched", f"IC {ic_iterations} it, {n_probes} probes, class-start kernel", n_probes,
                    "class_start", notes="GenerativeLSTM.generate with frozen weights (the study's path)", **ic_kw),
            *[_train_row(b, sigma=sigma, lr=lr, steps=train_steps, **shape) for b in sizes],
        ]
        config = {"k": k, "hidden": hidden, "seq_len": seq_len, "n_probes": n_probes, "ic_iterations": ic_iterations,
                  "ic_timed_iterations": ic_kw["timed_iterations"], "train_batch_sizes": list(sizes),
                  "train_steps_per_call": train_steps, "sigma": sigma, "lr": lr, "seed": seed, "data": "synthetic"}
        return finish("lstm", rows, device=dev, seconds=seconds, config=config, peaks_before=peaks_before,
                      verbose=verbose, record_dir=record_dir)
    finally:
        torch.set_num_threads(before)
