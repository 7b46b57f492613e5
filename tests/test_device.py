"""Device choice: ``auto`` follows CUDA's availability; an argument beats ``IC_DEVICE``, which beats ``auto``.

CUDA's availability is faked in both directions, so every rule is checked on any machine (a torch.device
object for "cuda" can be built without a GPU)."""

import pytest
import torch

from ic.device import choose_device


@pytest.fixture
def cuda(monkeypatch):
    """Set whether CUDA looks available: ``cuda(True)`` / ``cuda(False)``; ``IC_DEVICE`` starts unset."""
    monkeypatch.delenv("IC_DEVICE", raising=False)
    return lambda available: monkeypatch.setattr(torch.cuda, "is_available", lambda: available)


def test_auto_is_cuda_when_available_else_cpu(cuda, monkeypatch):
    cuda(True)
    assert choose_device() == torch.device("cuda")
    assert choose_device("auto") == torch.device("cuda")
    cuda(False)
    assert choose_device() == torch.device("cpu")
    monkeypatch.setenv("IC_DEVICE", "auto")
    assert choose_device() == torch.device("cpu")


def test_environment_overrides_auto(cuda, monkeypatch):
    cuda(True)                                   # auto would pick CUDA
    monkeypatch.setenv("IC_DEVICE", " CPU ")     # case and spaces do not matter
    assert choose_device() == torch.device("cpu")
    monkeypatch.setenv("IC_DEVICE", "cuda:1")
    assert choose_device() == torch.device("cuda", 1)


def test_argument_overrides_environment_and_auto(cuda, monkeypatch):
    cuda(True)
    assert choose_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("IC_DEVICE", "cuda")
    assert choose_device("cpu") == torch.device("cpu")
    cuda(False)                                  # IC_DEVICE=cuda alone would now be an error
    assert choose_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("IC_DEVICE", "cpu")
    cuda(True)
    assert choose_device("auto") == torch.device("cuda")


def test_cuda_requested_without_cuda_is_an_error(cuda, monkeypatch):
    cuda(False)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        choose_device("cuda")
    monkeypatch.setenv("IC_DEVICE", "cuda:0")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        choose_device()


def test_mps_requested_without_mps_is_an_error(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="MPS is not available"):
        choose_device("mps")


def test_unknown_device_is_an_error(monkeypatch):
    with pytest.raises(ValueError, match="Unknown device"):
        choose_device("tpu")
    monkeypatch.setenv("IC_DEVICE", "gpu")
    with pytest.raises(ValueError, match="IC_DEVICE"):
        choose_device()


def test_torch_threads_sets_and_restores_the_count_and_reads_it_from_a_record():
    import torch

    from ic.device import recorded_threads, torch_threads

    own = torch.get_num_threads()
    other = 2 if own == 1 else 1
    with torch_threads(other):
        assert torch.get_num_threads() == other
        with torch_threads(None):
            assert torch.get_num_threads() == other
    assert torch.get_num_threads() == own
    record = {"environment": {"torch_threads": 3}}
    assert recorded_threads(record) == 3 and recorded_threads(record, "cuda") is None
    assert recorded_threads(None) is None and recorded_threads({}) is None
