"""The command line as a user meets it: one clear line and exit status 2 for each ordinary mistake, the full
traceback with --debug, help without markup that lists the studies' profiles, the benchmarks and the variables,
status without the datasets, and a Ctrl-C during reproduce that says how to resume."""

from __future__ import annotations

import io
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ic import bench, cli, paths, runner
from ic.data import files

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def sandbox(tmp_path, monkeypatch, offline):
    """Empty dataset root, results store and cache of this test; downloads fail as if offline."""
    for name in ("data", "results", "cache"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("IC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IC_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("IC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("IC_DEVICE", raising=False)
    return tmp_path


def one_line_error(capsys, argv: list[str]) -> str:
    """Run the CLI; it must exit with status 2 and write exactly one line to stderr; return that line."""
    try:
        code = cli.main(argv)
    except SystemExit as stop:          # argparse's own errors
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("argv, says", [
    (["reproduce", "--only", "nonsense"], "Unknown study 'nonsense' in --only: use one or more of lstm, cgan, vae"),
    (["status", "--only", "lstm,nonsense"], "Unknown study 'nonsense'"),
    (["reproduce", "--profile", "nonsense"], "Unknown profile 'nonsense': use one of smoke, paper, cpu (cgan, vae)"),
    (["reproduce", "--profile", "cpu", "--only", "lstm"],
     "'cpu' is not a profile of the lstm study: use one of smoke, paper; 'cpu' is a profile of cgan"),
    (["status", "--profile", "cpu", "--only", "lstm"], "'cpu' is not a profile of the lstm study"),
    (["reproduce", "--budget", "banana"], "Cannot read budget 'banana': use e.g. 45m"),
    (["reproduce", "--shard", "2/2"], "Cannot read shard '2/2': use i/n with 0 <= i < n"),
    (["bench", "nonsense"], "invalid choice: 'nonsense' (choose from 'lstm'"),
    (["reproduce", "--threads", "two"], "argument --threads: invalid int value: 'two'"),
])
def test_mistakes_get_one_line_and_status_2(sandbox, capsys, argv, says):
    assert says in one_line_error(capsys, argv)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_mistake(sandbox, capsys):
    line = one_line_error(capsys, ["reproduce", "--profile", "smoke", "--device", "cuda"])
    assert "CUDA is not available here; use 'auto' or 'cpu'" in line and "IC_DEVICE" in line


def test_unknown_ic_device_is_a_mistake(sandbox, capsys, monkeypatch):
    monkeypatch.setenv("IC_DEVICE", "gpu")
    assert "Unknown device 'gpu': use one of auto, cpu" in one_line_error(capsys, ["status", "--only", "vae"])


def test_missing_dataset_is_a_mistake_that_names_ic_data_dir(sandbox, capsys):
    line = one_line_error(capsys, ["reproduce", "--profile", "smoke", "--only", "cgan", "--no-progress"])
    assert re.search(r"Dataset file MNIST/raw/\S+ is missing", line) and "Set IC_DATA_DIR" in line
    assert not list((sandbox / "cache").rglob("*.json"))


def test_corrupt_dataset_is_a_mistake(sandbox, capsys):
    spec = files.get_spec("character_trajectories", "character_trajectories.npz")
    spec.path().parent.mkdir(parents=True)
    spec.path().write_bytes(b"not the mirror")
    line = one_line_error(capsys, ["reproduce", "--profile", "smoke", "--only", "lstm", "--no-progress"])
    assert "is not the expected character_trajectories file" in line


def test_debug_shows_the_traceback():
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    for argv in (["--debug", "reproduce", "--budget", "banana"], ["reproduce", "--budget", "banana", "--debug"]):
        done = subprocess.run([sys.executable, "-m", "ic", *argv], capture_output=True, text=True, env=env,
                              cwd=REPO_ROOT, timeout=120)
        assert done.returncode == 1 and "Traceback (most recent call last)" in done.stderr, done.stderr
        assert "UsageError: Cannot read budget 'banana'" in done.stderr
    with pytest.raises(runner.UsageError):
        cli.main(["--debug", "reproduce", "--shard", "2/2"])


# ---------------------------------------------------------------------------------------------------- help

def help_text(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as stop:
        cli.main([*argv, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", [[], ["status"], ["reproduce"], ["bench"]])
def test_help_has_no_markup(capsys, command):
    text = help_text(capsys, command)
    for markup in ("``", ":mod:", ":func:", "`", "%("):
        assert markup not in text, markup
    assert "IC_DATA_DIR" in text and "Exit status: 0 done; 2" in text


@pytest.mark.parametrize("command", [[], ["status"], ["reproduce"]])
def test_help_lists_every_study_with_its_profiles_and_the_variables(capsys, command):
    text = help_text(capsys, command)
    for study in runner.STUDY_MODULES:
        for profile, summary in cli.profile_summaries(study).items():
            assert f"{study} {profile}" in text and summary[:40] in " ".join(text.split())
        assert set(cli.profile_summaries(study)) == set(runner.study_profiles(study))
    for variable in ("IC_DATA_DIR", "IC_RESULTS_DIR", "IC_CACHE_DIR", "IC_DEVICE"):
        assert variable in text
    assert f"(now: {paths.results_root()})" in text


@pytest.mark.parametrize("command", [[], ["bench"]])
def test_help_lists_every_benchmark(capsys, command):
    text = help_text(capsys, command)
    for name, (_, _, description) in bench.REGISTRY.items():
        assert f"  {name} " in text and description[:30] in text


def test_status_counts_the_stored_results_without_loading_any_dataset(monkeypatch, tmp_path, capsys):
    """With only an unreadable placeholder of the mirror file (reading it fails its SHA-256 check), status still
    counts every committed LSTM result: it plans from the files present without reading them."""
    placeholder = tmp_path / "CharacterTrajectories" / "character_trajectories.npz"
    placeholder.parent.mkdir()
    placeholder.write_bytes(b"placeholder")
    monkeypatch.setenv("IC_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("IC_RESULTS_DIR", raising=False)
    committed = {p.stem for p in (REPO_ROOT / "results" / "lstm").glob("*.json")}
    assert cli.main(["status", "--only", "lstm"]) == 0
    row = next(line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("lstm "))
    from ic.lstm.study import STUDY

    planned = {j.key for j in STUDY.plan("paper")}
    assert committed <= planned                                       # every committed result is counted
    assert row[:3] == ["lstm", str(len(committed)), str(len(planned - committed))]


def test_status_without_any_dataset(sandbox, capsys, caplog):
    caplog.set_level(logging.WARNING)
    assert cli.main(["status", "--only", "lstm,vae"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines() if line.startswith(("lstm ", "vae "))] == ["lstm", "vae"]
    assert "No Character Trajectories file in" in caplog.text


def test_profile_without_only_takes_the_studies_that_have_it(sandbox):
    out = io.StringIO()
    rows = runner.status("cpu", out=out)
    assert [r["study"] for r in rows] == ["cgan", "vae"]              # lstm has no cpu profile
    assert "profile cpu: only cgan, vae" in out.getvalue()


# ------------------------------------------------------------------------------------------------- logging

def test_a_download_is_logged_only_when_it_happens(mirror_dir, tmp_path, monkeypatch, caplog, offline):
    spec = files.get_spec("mnist", "t10k-labels-idx1-ubyte.gz")
    caplog.set_level(logging.INFO, logger="ic.data")
    with pytest.raises(files.DataUnavailableError):
        files.ensure_file(spec, tmp_path)
    assert "Downloading" not in caplog.text
    payload = spec.path(mirror_dir).read_bytes()
    monkeypatch.setattr(files, "_open_url", lambda url, timeout=None: io.BytesIO(payload))
    files.clear_verification_cache()
    assert files.ensure_file(spec, tmp_path).read_bytes() == payload
    assert f"Downloading {spec.url}" in caplog.text


# ------------------------------------------------------------------------------------------------- Ctrl-C

def test_ctrl_c_during_reproduce_says_what_was_kept_and_how_to_resume(mirror_dir, tmp_path):
    env = dict(os.environ, IC_DATA_DIR=str(mirror_dir), IC_RESULTS_DIR=str(tmp_path / "results"),
               IC_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(REPO_ROOT))
    argv = ["reproduce", "--profile", "smoke", "--only", "lstm", "--no-progress"]
    store = tmp_path / "cache" / "results-smoke" / "lstm"
    # a process started in the background of a non-interactive shell (as CI may run) inherits SIGINT *ignored*,
    # and Python then never raises KeyboardInterrupt: restore the default disposition in the child, as a
    # terminal would have it
    proc = subprocess.Popen([sys.executable, "-m", "ic", *argv], cwd=REPO_ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while len(list(store.glob("*.json"))) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    kept = len(list(store.glob("*.json")))
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"Interrupted: {kept} results computed in this run were kept in ")
    assert " -m ic " + " ".join(argv) in last and "Run the same command again to resume: " in last
