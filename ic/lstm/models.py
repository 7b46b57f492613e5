"""The thesis's two networks: the generative LSTM (class vector → pen trajectory) and the forward baseline.

Speed: inverse classification differentiates ``GenerativeLSTM.generate`` hundreds of times per probe set. Its input
sequence is the class vector at the first step and zeros after, and its initial state is zero, so a general LSTM
pass wastes work: the input projection of the T - 1 zero steps (only the bias survives) and the recurrent product
of the zero initial state. With frozen weights ``generate`` therefore runs :class:`_ClassStartLSTM`, which computes
the input projection once, starts from the bias, and differentiates by hand with respect to the class vector
only (no weight gradients). Same parameters, same state_dict, same outputs to float rounding; training (weights
that require gradients) keeps ``torch.nn.LSTM``, bit for bit as before.
"""

from __future__ import annotations

import torch
from torch import nn

from .preprocess import SEQ_LEN


def keras_init_(lstm: nn.LSTM, linear: nn.Linear | None = None) -> None:
    """Initialise like Keras 2 (the thesis's framework): Glorot-uniform input weights, orthogonal recurrent
    weights, zero biases with the forget-gate bias at 1 (``unit_forget_bias``); Glorot-uniform dense layer."""
    h = lstm.hidden_size
    with torch.no_grad():
        for name, p in lstm.named_parameters():
            if name.startswith("weight_ih"):
                for g in range(4):
                    nn.init.xavier_uniform_(p[g * h:(g + 1) * h])
            elif name.startswith("weight_hh"):
                for g in range(4):
                    nn.init.orthogonal_(p[g * h:(g + 1) * h])
            elif name.startswith("bias_ih"):
                p.zero_()
                p[h:2 * h] = 1.0   # PyTorch gate order: input, forget, cell, output
            elif name.startswith("bias_hh"):
                p.zero_()
        if linear is not None:
            nn.init.xavier_uniform_(linear.weight)
            linear.bias.zero_()


class GenerativeLSTM(nn.Module):
    """Class vector at the first time step (zeros after) → LSTM(hidden) → linear(2) at every step."""

    def __init__(self, n_classes: int, hidden: int = 205, out_dim: int = 2, seq_len: int = SEQ_LEN):
        super().__init__()
        self.n_classes, self.seq_len = n_classes, seq_len
        self.lstm = nn.LSTM(n_classes, hidden, batch_first=True)
        self.out = nn.Linear(hidden, out_dim)
        keras_init_(self.lstm, self.out)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, T, k) input sequence → (B, T, 2) trajectory. The thesis's clip layer is applied here."""
        h, _ = self.lstm(inputs.clamp(0.0, 1.0))
        return self.out(h)

    def input_sequence(self, class_vec: torch.Tensor) -> torch.Tensor:
        seq = class_vec.new_zeros(class_vec.shape[0], self.seq_len, self.n_classes)
        seq[:, 0] = class_vec
        return seq

    def generate(self, class_vec: torch.Tensor) -> torch.Tensor:
        """(B, k) class vectors → (B, T, 2) trajectories (what inverse classification differentiates).

        Equal to ``self(self.input_sequence(class_vec))`` to float rounding; with frozen weights (or under
        ``no_grad``) through the class-start kernel, which is faster and needs no weight gradients."""
        if torch.is_grad_enabled() and any(p.requires_grad for p in self.parameters()):
            return self(self.input_sequence(class_vec))
        lstm = self.lstm
        h = _ClassStartLSTM.apply(class_vec.clamp(0.0, 1.0), lstm.weight_ih_l0, lstm.weight_hh_l0,
                                  lstm.bias_ih_l0 + lstm.bias_hh_l0, self.seq_len)      # (T, B, H)
        return self.out(h).transpose(0, 1)

    def noisy_input_sequence(self, class_vec: torch.Tensor, sigma: float, renormalise: bool = False,
                             generator: torch.Generator | None = None) -> torch.Tensor:
        """Training input with the thesis's noise: N(0, σ²) on the whole (T, k) input, then clip to [0, 1]
        (the zero steps become half-normal). ``renormalise`` (the blog's description, an ablation) also
        rescales the first step to sum 1."""
        seq = self.input_sequence(class_vec)
        if sigma > 0:
            noise = torch.randn(seq.shape, generator=generator).to(seq.device) * sigma
            seq = (seq + noise).clamp(0.0, 1.0)
            if renormalise:
                first = seq[:, 0]
                seq = seq.clone()
                seq[:, 0] = first / (first.sum(dim=-1, keepdim=True) + 1e-8)
        return seq


class _ClassStartLSTM(torch.autograd.Function):
    """One-layer LSTM over T steps whose input is ``x`` at step 0 and zero after, from a zero state; returns the
    hidden states (T, B, H). PyTorch gate order (input, forget, cell, output). Backward gives the gradient with
    respect to ``x`` only: the weights must be frozen (``GenerativeLSTM.generate`` checks)."""

    @staticmethod
    def forward(ctx, x, w_ih, w_hh, bias, seq_len):
        # Per-step tensors (about 1 MB each) rather than one (T, B, 4H) block: the allocator serves them from
        # memory it keeps, while a block of hundreds of MB is mapped afresh and page-faulted on every call.
        batch, hidden = x.shape[0], w_hh.shape[1]
        acts, cells, tanh_cells = [], [], []              # gate activations (i, f, g, o), c_t, tanh(c_t)
        hs = x.new_empty(seq_len, batch, hidden)
        w_hh_t = w_hh.t()
        pre = torch.addmm(bias, x, w_ih.t())             # step 0: input projection, zero state
        for t in range(seq_len):
            if t:
                torch.addmm(bias, hs[t - 1], w_hh_t, out=pre)   # steps ≥ 1: zero input, only the bias
            a = torch.sigmoid(pre)
            torch.tanh(pre[:, 2 * hidden:3 * hidden], out=a[:, 2 * hidden:3 * hidden])
            i, f, g, o = a.chunk(4, dim=1)
            c = torch.mul(i, g)
            if t:
                c.addcmul_(f, cells[-1])
            tc = torch.tanh(c)
            torch.mul(o, tc, out=hs[t])
            acts.append(a)
            cells.append(c)
            tanh_cells.append(tc)
        ctx.save_for_backward(w_ih, w_hh)
        ctx.steps = acts, cells, tanh_cells
        return hs

    @staticmethod
    def backward(ctx, grad_hs):
        w_ih, w_hh = ctx.saved_tensors
        acts, cells, tanh_cells = ctx.steps
        del ctx.steps
        seq_len, batch, hidden = grad_hs.shape
        d_pre = grad_hs.new_empty(batch, 4 * hidden)      # gradient of the gates' pre-activations
        d_i, d_f, d_g, d_o = d_pre.chunk(4, dim=1)
        slope = grad_hs.new_empty(batch, 4 * hidden)      # derivative of each activation
        s_g = slope[:, 2 * hidden:3 * hidden]
        d_c = grad_hs.new_zeros(batch, hidden)
        d_h = grad_hs[seq_len - 1].clone()
        tmp = grad_hs.new_empty(batch, hidden)
        ones = grad_hs.new_ones(batch, hidden)
        for t in range(seq_len - 1, -1, -1):
            a = acts.pop()
            i, f, g, o = a.chunk(4, dim=1)
            tc = tanh_cells.pop()
            cells.pop()
            torch.mul(d_h, tc, out=d_o)                   # dL/do
            torch.addcmul(ones, tc, tc, value=-1.0, out=tmp)   # 1 - tanh(c)²
            tmp.mul_(o).mul_(d_h)
            d_c.add_(tmp)                                 # dL/dc_t
            torch.mul(d_c, g, out=d_i)
            torch.mul(d_c, i, out=d_g)
            if t:
                torch.mul(d_c, cells[-1], out=d_f)
            else:
                d_f.zero_()
            torch.addcmul(a, a, a, value=-1.0, out=slope)  # σ' = a (1 - a) for i, f, o
            torch.addcmul(ones, g, g, value=-1.0, out=s_g)      # tanh' = 1 - g² for g
            d_pre.mul_(slope)
            if t:
                d_c.mul_(f)                               # to c_{t-1}
                torch.addmm(grad_hs[t - 1], d_pre, w_hh, out=d_h)   # to h_{t-1}, plus its own output's
        return d_pre @ w_ih, None, None, None, None


class ForwardLSTM(nn.Module):
    """The thesis's forward baseline: LSTM(hidden) over the trajectory → last state → dense(k) → softmax."""

    def __init__(self, n_classes: int, hidden: int = 205, in_dim: int = 2):
        super().__init__()
        self.lstm = nn.LSTM(in_dim, hidden, batch_first=True)
        self.out = nn.Linear(hidden, n_classes)
        keras_init_(self.lstm, self.out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(x)
        return torch.softmax(self.out(h[-1]), dim=-1)
