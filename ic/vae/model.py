"""All the class VAEs of one configuration as ONE batched model: weights stacked over a leading class axis.

Each of the K VAEs is the source's "standard VAE with two-layer MLPs of 500 hidden units":

* **encoder** (Gaussian): x (784) → 500 → 500 → (μ, σ) with σ = softplus(·) + 1e-6, q(z|x) = N(μ, diag σ²);
* **decoder** (Bernoulli): z (dim_z) → 500 → 500 → 784 logits, p(x|z) = Bernoulli(sigmoid(logits)) per pixel;
* **loss** = −ELBO per image = Σ_pixels BCE(x, sigmoid(logits)) + KL(N(μ, σ²) ‖ N(0, I)) (analytic), computed
  from the logits (``binary_cross_entropy_with_logits``: exact, no clipping of the sigmoid);
* **activations** (the paper does not name them): ``"elu_tanh"`` — encoder ELU then tanh, decoder tanh then ELU,
  as the public TensorFlow MNIST VAE whose description the paper matches (without its dropout) — or ``"relu"``.
* **σ²** is the variance of the re-parameterisation noise: z = μ + σ ⊙ √σ² · ε, ε ~ N(0, I). Changing it changes
  only the sample (as changing the noise of the re-parameterisation in a TensorFlow graph does); the KL term is
  still computed from the encoder's (μ, σ), so for σ² ≠ 1 the loss is no longer the ELBO of the sampling
  distribution.

Layer l of class k maps ``h[k] ↦ h[k] @ W_l[k] + b_l[k]`` with ``torch.baddbmm`` over the class axis, so a step on
K classes is one graph, and — because nothing mixes the classes — identical to K separate per-class steps
(tests/test_vae.py). Inputs are ``[K, B, 784]`` (class k's batch goes through VAE k) or, for scoring,
``[P, 784]`` probes sent through every class's encoder by one matrix product.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

X_DIM = 784
HIDDEN = 500
ACTIVATIONS = {"elu_tanh": (F.elu, torch.tanh, torch.tanh, F.elu), "relu": (F.relu,) * 4}
SIGMA_FLOOR = 1e-6


class BatchedVAE(nn.Module):
    """K independent VAEs (one per class, or K = 1 for a common VAE) with stacked weights ``[K, in, out]``."""

    LAYERS = ("enc1", "enc2", "enc3", "dec1", "dec2", "dec3")

    def __init__(self, n_models: int, dim_z: int, activation: str = "elu_tanh", hidden: int = HIDDEN,
                 generator: torch.Generator | None = None):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"Unknown activation {activation!r}: use one of {', '.join(ACTIVATIONS)}.")
        if n_models < 1 or dim_z < 1:
            raise ValueError(f"n_models ({n_models}) and dim_z ({dim_z}) must be positive")
        self.n_models, self.dim_z, self.activation, self.hidden = n_models, dim_z, activation, hidden
        shapes = {"enc1": (X_DIM, hidden), "enc2": (hidden, hidden), "enc3": (hidden, 2 * dim_z),
                  "dec1": (dim_z, hidden), "dec2": (hidden, hidden), "dec3": (hidden, X_DIM)}
        for name, (n_in, n_out) in shapes.items():
            # torch.nn.Linear's default initialisation, per class: U(−1/√fan_in, 1/√fan_in) for weight and bias
            bound = 1.0 / math.sqrt(n_in)
            w = (torch.rand(n_models, n_in, n_out, generator=generator) * 2 - 1) * bound
            b = (torch.rand(n_models, 1, n_out, generator=generator) * 2 - 1) * bound
            self.register_parameter(f"{name}_w", nn.Parameter(w))
            self.register_parameter(f"{name}_b", nn.Parameter(b))

    def layer(self, name: str, h: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(getattr(self, f"{name}_b"), h, getattr(self, f"{name}_w"))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x ``[K, B, 784]`` → (μ, σ) ``[K, B, dim_z]``."""
        a1, a2, _, _ = ACTIVATIONS[self.activation]
        h = a2(self.layer("enc2", a1(self.layer("enc1", x))))
        out = self.layer("enc3", h)
        return out[..., :self.dim_z], F.softplus(out[..., self.dim_z:]) + SIGMA_FLOOR

    def encode_all(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Probes x ``[P, 784]`` through every class's encoder → (μ, σ) ``[K, P, dim_z]``; the first layer of all
        classes is one matrix product ``[P, 784] @ [784, K·500]``."""
        k, h = self.n_models, self.hidden
        a1, a2, _, _ = ACTIVATIONS[self.activation]
        w1 = self.enc1_w.permute(1, 0, 2).reshape(X_DIM, k * h)
        h1 = a1((x @ w1).view(-1, k, h).transpose(0, 1) + self.enc1_b)
        out = self.layer("enc3", a2(self.layer("enc2", h1)))
        return out[..., :self.dim_z], F.softplus(out[..., self.dim_z:]) + SIGMA_FLOOR

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z ``[K, N, dim_z]`` → Bernoulli logits ``[K, N, 784]``."""
        _, _, a3, a4 = ACTIVATIONS[self.activation]
        return self.layer("dec3", a4(self.layer("dec2", a3(self.layer("dec1", z)))))

    def negative_elbo(self, x: torch.Tensor, eps: torch.Tensor, sigma2: float = 1.0) -> torch.Tensor:
        """Per-image −ELBO ``[K, B]`` of x ``[K, B, 784]`` with the re-parameterisation noise ``eps`` ``[K, B, dim_z]``
        scaled to variance ``sigma2``."""
        mu, sigma = self.encode(x)
        z = mu + sigma * (math.sqrt(sigma2) * eps)
        logits = self.decode_logits(z)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)
        kl = 0.5 * (mu.pow(2) + sigma.pow(2) - 1.0 - 2.0 * torch.log(sigma)).sum(-1)
        return rec + kl

    def select(self, models: list[int]) -> BatchedVAE:
        """A new BatchedVAE holding copies of the given models (class indices), e.g. one class for a check."""
        out = BatchedVAE(len(models), self.dim_z, self.activation, self.hidden)
        idx = torch.as_tensor(models)
        with torch.no_grad():
            for name, p in self.named_parameters():
                getattr(out, name).copy_(p[idx])
        return out

    def config(self) -> dict:
        return {"n_models": self.n_models, "dim_z": self.dim_z, "activation": self.activation, "hidden": self.hidden}
