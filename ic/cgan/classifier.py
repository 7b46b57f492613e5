"""A small convolutional MNIST classifier: the judge of the GAN's model selection (does a sample of class c
look like a c?) and, on the book's probe set, the forward baseline the cGAN source names but never ran.

Conv(1→32, 3×3) → ReLU → max-pool 2 → Conv(32→64, 3×3) → ReLU → max-pool 2 → Linear(64·5·5→128) → ReLU →
Linear(128→10). Adam lr 1e-3, batch 128, cross-entropy; trained on the first 55 000 MNIST training images, the
last 5 000 held out to keep the best of its epochs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(64 * 5 * 5, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, 10) of images (B, 28, 28) in [0, 1]."""
        h = F.max_pool2d(F.relu(self.conv1(x.unsqueeze(1))), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return self.fc2(F.relu(self.fc1(h.flatten(1))))


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch: int = 2000) -> torch.Tensor:
    """Predicted classes (B,) of ``images`` (B, 28, 28), in batches, in eval mode."""
    model.eval()
    return torch.cat([model(images[i:i + batch].float()).argmax(dim=1) for i in range(0, len(images), batch)])
