import pytest
import torch

from ic.device import choose_device


def test_auto_is_cuda_when_available_else_cpu(monkeypatch):
    monkeypatch.delenv("IC_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert choose_device().type == expected
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert choose_device().type == "cpu"


def test_override_by_argument_and_environment(monkeypatch):
    monkeypatch.setenv("IC_DEVICE", "cpu")
    assert choose_device().type == "cpu"
    assert choose_device("cpu").type == "cpu"


def test_cuda_requested_without_cuda_is_an_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        choose_device("cuda")


def test_unknown_device_is_an_error():
    with pytest.raises(ValueError, match="Unknown device"):
        choose_device("tpu")
