"""The source's conditional DCGAN (``malzantot/Pytorch-conditional-GANs`` as Hobbhahn ran it).

Generator: class vector (10) → Linear(10→1000) + ReLU, concatenated with noise z (nz) → Linear(→64·28·28) →
BatchNorm → ReLU → ConvTranspose(64→32, 5×5, pad 2) → BatchNorm → ReLU → ConvTranspose(32→1, 5×5, pad 2) →
sigmoid: a 28×28 image in [0, 1] (no up-sampling). Discriminator: Conv(1→32, 5×5) → BN → ReLU → Conv(32→64,
5×5) → BN → ReLU → flatten ⊕ ReLU(Linear(10→1000)(class)) → Linear(→1024) → ReLU → Linear(→1) → sigmoid.

BatchNorm during inverse classification: the source never put the generator in eval mode, so BN normalised
with the statistics of the current batch of 4 test images. :func:`ghost_batch_norm` reproduces that for many
probes at once: one tensor, statistics computed per group of ``group`` consecutive probes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

N_CLASSES = 10
IMAGE = 28


def ghost_batch_norm(x: torch.Tensor, bn: nn.BatchNorm2d, group: int) -> torch.Tensor:
    """BatchNorm in training mode applied separately to every group of ``group`` consecutive samples (the
    biased batch variance, as training-mode BatchNorm normalises with), without touching ``bn``'s running
    statistics. One fused ``batch_norm`` call: the groups become channels ((B/g)·C channels over g samples)."""
    b, c, h, w = x.shape
    if b % group:
        raise ValueError(f"batch {b} is not a multiple of the BatchNorm group {group}")
    n = b // group
    # statistics in fp32 also under bf16 autocast (as autocast runs batch_norm)
    xg = x.reshape(n, group, c, h * w).transpose(0, 1).reshape(group, n * c, h * w)
    return _grouped_batch_norm(xg, bn, n).reshape(group, n, c, h * w).transpose(0, 1).reshape(b, c, h, w)


class Generator(nn.Module):
    def __init__(self, nz: int):
        super().__init__()
        self.nz = nz
        self.label_fc = nn.Linear(N_CLASSES, 1000)
        self.fc = nn.Linear(nz + 1000, 64 * IMAGE * IMAGE)
        self.bn1 = nn.BatchNorm2d(64)
        self.deconv1 = nn.ConvTranspose2d(64, 32, 5, stride=1, padding=2)
        self.bn2 = nn.BatchNorm2d(32)
        self.deconv2 = nn.ConvTranspose2d(32, 1, 5, stride=1, padding=2)

    def forward(self, z: torch.Tensor, c: torch.Tensor, bn_group: int | None = None) -> torch.Tensor:
        """``bn_group=None``: the module's own BatchNorm (train: batch statistics; eval: running ones);
        ``bn_group=g``: training-mode BatchNorm per group of g consecutive samples, the result of
        :func:`ghost_batch_norm` computed without its two layout copies per BatchNorm (:meth:`_forward_grouped`)."""
        if bn_group is not None:
            return self._forward_grouped(z, c, bn_group)
        h = torch.cat([z, F.relu(self.label_fc(c))], dim=1)
        h = self.fc(h).view(-1, 64, IMAGE, IMAGE)
        h = self.deconv1(F.relu(self.bn1(h)))
        return torch.sigmoid(self.deconv2(F.relu(self.bn2(h)))).squeeze(1)      # (B, 28, 28)

    def _forward_grouped(self, z: torch.Tensor, c: torch.Tensor, group: int) -> torch.Tensor:
        """Ghost BatchNorm without layout copies: the inputs are reordered group-major (row j·n + i holds sample
        i·g + j of group i), so that every feature map is already the ``(g, n·C, H·W)`` tensor that
        :func:`ghost_batch_norm` builds by a transposing copy; the layers other than BatchNorm treat each sample
        alone, and the output is put back in the input order. The same tensors reach the same kernels, so the
        result equals the copying version bit for bit (tests/test_cgan.py), ≈ 13 % faster here."""
        b = z.shape[0]
        if b % group:
            raise ValueError(f"batch {b} is not a multiple of the BatchNorm group {group}")
        n = b // group
        order = torch.arange(b, device=z.device).view(n, group).t().reshape(-1)
        h = torch.cat([z[order], F.relu(self.label_fc(c[order]))], dim=1)
        h = _grouped_batch_norm(self.fc(h).view(group, n * 64, IMAGE * IMAGE), self.bn1, n)
        h = self.deconv1(F.relu(h.view(b, 64, IMAGE, IMAGE)))
        h = _grouped_batch_norm(h.reshape(group, n * 32, IMAGE * IMAGE), self.bn2, n)
        out = torch.sigmoid(self.deconv2(F.relu(h.view(b, 32, IMAGE, IMAGE))))
        return out.view(group, n, IMAGE, IMAGE).transpose(0, 1).reshape(b, IMAGE, IMAGE)


def _grouped_batch_norm(x: torch.Tensor, bn: nn.BatchNorm2d, n: int) -> torch.Tensor:
    """Training-mode BatchNorm of ``x`` ``(g, n·C, H·W)``: each of the n groups' C channels normalised over the g
    samples of its group (the statistics in fp32, as in :func:`ghost_batch_norm`)."""
    return F.batch_norm(x.float(), None, None, bn.weight.float().repeat(n), bn.bias.float().repeat(n),
                        training=True, eps=bn.eps)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.bn2 = nn.BatchNorm2d(64)
        self.label_fc = nn.Linear(N_CLASSES, 1000)
        self.fc1 = nn.Linear(64 * IMAGE * IMAGE + 1000, 1024)
        self.fc2 = nn.Linear(1024, 1)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Probability (B,) that the images ``x`` (B, 28, 28) are real images of classes ``c`` (B, 10)."""
        h = F.relu(self.bn1(self.conv1(x.unsqueeze(1))))
        h = F.relu(self.bn2(self.conv2(h))).flatten(1)
        h = torch.cat([h, F.relu(self.label_fc(c))], dim=1)
        return torch.sigmoid(self.fc2(F.relu(self.fc1(h)))).squeeze(1)
