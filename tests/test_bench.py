"""The benchmark registry, FLOP counting, the JSON record, and the LSTM's class-start kernel (the speed path of
``GenerativeLSTM.generate``) against a plain LSTM written out step by step. No timing assertions: speed is
measured by ``python -m ic bench`` and recorded in benchmarks/."""

from __future__ import annotations

import json

import pytest
import torch

from ic import bench, cli
from ic.bench import common
from ic.lstm.models import GenerativeLSTM

TINY = dict(device="cpu", seconds=0.01, threads=1, k=3, hidden=8, seq_len=12, n_probes=5, ic_iterations=10,
            ic_timed_iterations=2, train_batch_sizes=(1, 4), train_steps=2)


# --------------------------------------------------------------------------------------------------- registry
def test_registry_lists_lstm_and_rejects_unknown_names():
    assert "lstm" in bench.names()
    assert bench.get("lstm").__name__ == "bench_lstm"
    with pytest.raises(ValueError, match="Unknown benchmark 'gan': use one of .*lstm"):
        bench.run("gan")


def test_cli_accepts_every_registered_benchmark_and_no_other(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(common, "fake_benchmark", lambda **kw: calls.append(kw) or {}, raising=False)
    monkeypatch.setitem(bench.REGISTRY, "fake", ("common", "fake_benchmark", "a test double"))
    assert cli.main(["bench", "fake", "--seconds", "0.5", "--threads", "1"]) == 0
    assert calls == [{"device": None, "seconds": 0.5, "threads": 1}]
    with pytest.raises(SystemExit):
        cli.main(["bench", "nonesuch"])
    assert "fake" in capsys.readouterr().err and "lstm" in bench.names()


# ------------------------------------------------------------------------------------------------------ FLOPs
def test_flop_count_of_a_known_matmul_and_of_a_fused_lstm():
    a, b = torch.randn(7, 5), torch.randn(5, 3)
    assert common.count_flops(lambda: a @ b) == 2 * 7 * 5 * 3
    # torch's CPU LSTM runs as one oneDNN kernel that the counter cannot see; counted, it must show its matmuls:
    # the input projection of every step plus the recurrent product of every step
    batch, steps, k, hidden = 4, 6, 3, 5
    lstm = torch.nn.LSTM(k, hidden, batch_first=True)
    with torch.no_grad():
        assert common.count_flops(lambda: lstm(torch.randn(batch, steps, k))) == \
            2 * batch * steps * 4 * hidden * (k + hidden)


def test_class_start_kernel_skips_the_zero_work():
    batch, k, hidden, steps = 4, 3, 5, 6
    m = GenerativeLSTM(k, hidden=hidden, seq_len=steps).eval().requires_grad_(False)
    c = torch.rand(batch, k)
    with torch.no_grad():
        fast = common.count_flops(lambda: m.generate(c))
        plain = common.count_flops(lambda: m(m.input_sequence(c)))
    out = 2 * batch * steps * hidden * 2                                  # the output layer
    assert plain == 2 * batch * steps * 4 * hidden * (k + hidden) + out
    assert fast == 2 * batch * 4 * hidden * (k + (steps - 1) * hidden) + out


# ----------------------------------------------------------------------------------------------- the record
def test_lstm_benchmark_writes_a_record_with_machine_peaks_and_rows(tmp_path):
    r = bench.run("lstm", record_dir=tmp_path, verbose=False, **TINY)
    files = list(tmp_path.glob("lstm-*-cpu-1t.json"))
    assert len(files) == 1 and r["path"] == str(files[0])
    rec = json.loads(files[0].read_text())
    m = rec["machine"]
    assert m["device"] == "cpu" and m["threads"] == 1 and m["torch"] == torch.__version__
    assert m["cpu_model"] and m["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert rec["goal_fraction_of_peak"] == common.GOAL_FRACTION and rec["clock"] == "cpu"   # one thread
    assert "float32 1024x1024x1024" in rec["peaks_gflops"]
    assert ("bfloat16 1024x1024x1024" in rec["peaks_gflops"]) == common.has_amx_bf16()
    rows = {row["name"]: row for row in rec["rows"]}
    assert set(rows) == {"ic_loop", "ic_batched_nn_lstm", "ic_batched", "train_batch1", "train_batch4"}
    for row in rows.values():
        key = f"{row['dtype']} {'x'.join(map(str, row['peak_shape']))}"
        assert row["throughput"] > 0 and row["flops_per_call"] > 0
        assert row["gflops"] == pytest.approx(row["flops_per_call"] / row["seconds_per_call"] / 1e9)
        assert row["fraction_of_peak"] == pytest.approx(row["gflops"] / rec["peaks_gflops"][key])
        assert row["speedup"] == pytest.approx(row["throughput"] / rows[row["baseline"]]["throughput"])
    assert rows["ic_loop"]["speedup"] == 1.0 and rows["train_batch1"]["speedup"] == 1.0
    assert rows["ic_batched"]["peak_shape"] == [5, 8, 32] and rows["ic_batched"]["extra"]["probes"] == 5
    # probes/s at the study's 10 iterations, timed over 2: 5 probes × 2/10 per call
    assert rows["ic_batched"]["throughput"] == pytest.approx(5 * 2 / 10 / rows["ic_batched"]["seconds_per_call"])
    assert rows["ic_batched"]["flops_per_call"] < rows["ic_batched_nn_lstm"]["flops_per_call"]
    table = common.format_table(rec)
    assert "source-style loop" in table and "of peak" in table and "probes/s" in table


# ------------------------------------------------------------------ the class-start kernel = a plain LSTM
def _reference_generate(m: GenerativeLSTM, class_vec: torch.Tensor) -> torch.Tensor:
    """A plain LSTM written out step by step: the class vector (clipped) at step 0, zeros after, zero state."""
    lstm, hidden = m.lstm, m.lstm.hidden_size
    x = class_vec.clamp(0.0, 1.0)
    h = c = x.new_zeros(x.shape[0], hidden)
    outs = []
    for t in range(m.seq_len):
        inp = x if t == 0 else torch.zeros_like(x)
        gates = inp @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outs.append(m.out(h))
    return torch.stack(outs, dim=1)


def _random_model(dtype=torch.float64) -> GenerativeLSTM:
    torch.manual_seed(3)
    m = GenerativeLSTM(4, hidden=6, seq_len=9).to(dtype)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn_like(p) * 0.7)      # random weights, biases included (not the Keras init)
    return m.eval().requires_grad_(False)


def _class_vectors(dtype=torch.float64) -> torch.Tensor:
    c = torch.rand(5, 4, generator=torch.Generator().manual_seed(1), dtype=dtype)
    c[0] = torch.tensor([1.0, 0.0, 0.0, 0.0])
    c[1, 0], c[1, 1] = 1.2, -0.1                    # outside [0, 1]: clipped, no gradient
    return c


def _output_and_grad(fn, m, c, weights):
    x = c.clone().requires_grad_()
    y = fn(m, x)
    loss = (y * weights).sum()
    return y.detach(), torch.autograd.grad(loss, x)[0]


def test_class_start_kernel_equals_a_plain_lstm_forward_and_backward():
    m, c = _random_model(), _class_vectors()
    weights = torch.randn(5, 9, 2, dtype=torch.float64)
    y, g = _output_and_grad(lambda m, x: m.generate(x), m, c, weights)
    y_ref, g_ref = _output_and_grad(_reference_generate, m, c, weights)
    assert torch.allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    assert torch.allclose(g, g_ref, rtol=1e-10, atol=1e-12)
    assert (g[1, :2] == 0).all() and (g.abs() > 0).float().mean() > 0.8
    with torch.no_grad():
        assert torch.allclose(m.generate(c), y_ref, rtol=1e-12, atol=1e-12)


def test_class_start_kernel_matches_torch_lstm_in_float32():
    m, c = _random_model(torch.float32), _class_vectors(torch.float32)
    weights = torch.randn(5, 9, 2)
    y, g = _output_and_grad(lambda m, x: m.generate(x), m, c, weights)
    y_ref, g_ref = _output_and_grad(lambda m, x: m(m.input_sequence(x)), m, c, weights)
    assert torch.allclose(y, y_ref, rtol=1e-5, atol=1e-6) and torch.allclose(g, g_ref, rtol=1e-5, atol=1e-6)


def test_generate_with_trainable_weights_is_the_torch_lstm_path():
    """Training and anything that needs weight gradients keep torch.nn.LSTM, bit for bit; the state_dict keeps
    its layout (committed results and cached weights load)."""
    m = _random_model(torch.float32).requires_grad_(True)
    c = _class_vectors(torch.float32)
    m.generate(c).square().sum().backward()
    grads = [p.grad.clone() for p in m.parameters()]
    m.zero_grad()
    m(m.input_sequence(c)).square().sum().backward()
    assert all(torch.equal(a, p.grad) for a, p in zip(grads, m.parameters()))
    assert list(GenerativeLSTM(4, hidden=6).state_dict()) == [
        "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0", "out.weight", "out.bias"]


# ----------------------------------------------------------------------------------------------- cGAN
def test_cgan_benchmark_rows_and_flops(tmp_path):
    """The cGAN benchmark at tiny sizes: its rows, their baselines, and FLOPs that match the generator's shapes
    (forward + input gradients of the first linear layer dominate: 2 · 2 · B · (nz + 1000) · 50 176 per
    iteration at least)."""
    r = bench.run("cgan", record_dir=tmp_path, verbose=False, seconds=0.01, threads=1, n_probes=8, iterations=4,
                  timed_iterations=1, train_steps=1, train_batch=4)
    rows = {row["name"]: row for row in r["rows"]}
    assert set(rows) == {"ic_loop_fp32", "ic_batched_fp32", "ic_loop_bf16", "ic_batched_bf16", "train_fp32",
                         "train_bf16"}
    assert rows["ic_batched_fp32"]["baseline"] == "ic_loop_fp32" and rows["train_bf16"]["baseline"] == "train_fp32"
    fc = 2 * 2 * 8 * (25 + 1000) * 64 * 28 * 28
    assert fc <= rows["ic_batched_fp32"]["flops_per_call"] <= 3 * fc
    # the loop over batches of 4 does the same work as one batch of 8
    assert rows["ic_loop_fp32"]["flops_per_call"] == rows["ic_batched_fp32"]["flops_per_call"]
    assert rows["ic_batched_bf16"]["dtype"] == "bfloat16"
    assert tuple(rows["ic_batched_fp32"]["peak_shape"]) == (8, 1025, 50176)
    assert list(tmp_path.glob("cgan-*.json"))
