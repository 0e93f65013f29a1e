"""Training on several devices: mirrored over two logical CPUs matches one device; bad switches exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from solutions.core.distribution import make_strategy
from solutions.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_mirrored_on_one_cpu_device_explains_how_to_split_it():
    with pytest.raises(ConfigError, match="--cpu-devices 2"):
        make_strategy("mirrored", 16)


def test_multi_worker_without_tf_config_is_refused(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="needs the TF_CONFIG environment variable"):
        make_strategy("multi_worker", 16)
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ConfigError, match="TF_CONFIG must be JSON"):
        make_strategy("multi_worker", 16)


def test_mirrored_training_on_two_logical_cpus_matches_one_device(tmp_path):
    def start(*extra):
        out = tmp_path / ("mirrored" if extra else "single")
        return subprocess.Popen(
            [sys.executable, "cli.py", "--json", "--quiet", *extra, "train", "image_classification", "--data", "shapes",
             "--recipe", "quick", "--out", str(out)] + (["--set", "distribution=mirrored"] if extra else []),
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def result(process):
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr[-2000:]
        return json.loads(stdout)

    # side by side: each spends much of its time importing TensorFlow and in single-threaded Python
    single, mirrored = start(), start("--cpu-devices", "2")
    single, mirrored = result(single), result(mirrored)
    assert single["value"] > 0.7
    assert abs(mirrored["value"] - single["value"]) <= 0.1


def test_batch_size_must_divide_over_replicas(tmp_path):
    script = ("from solutions.core.distribution import split_cpu, make_strategy\n"
              "split_cpu(2)\nmake_strategy('mirrored', 15)\n")
    completed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert completed.returncode != 0 and "must divide evenly over the 2 replicas" in completed.stderr
