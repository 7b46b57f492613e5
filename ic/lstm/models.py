"""The thesis's two networks: the generative LSTM (class vector → pen trajectory) and the forward baseline."""

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
        """(B, k) class vectors → (B, T, 2) trajectories (what inverse classification differentiates)."""
        return self(self.input_sequence(class_vec))

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
