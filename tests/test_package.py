"""pyproject.toml: the package installs and runs from anywhere, its models and demo inside it.

Installed here without its dependencies (they are this environment's) into a folder of
the test's own, and run from another working directory, so nothing can be found through
the source tree.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    build = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                            "--target", str(target), str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    if build.returncode != 0:
        pytest.fail(f"pip install . failed: {build.stderr.strip().splitlines()[-1:]}")
    return target


def run_installed(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(target)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_installed_package_reads_a_photo_from_another_folder(installed, tmp_path):
    import recognizer

    photo = np.full((120, 200, 3), 235, np.uint8)
    cv2.line(photo, (60, 30), (100, 30), (30, 30, 30), 5)
    cv2.line(photo, (100, 30), (75, 95), (30, 30, 30), 5)  # a 7
    cv2.imwrite(str(tmp_path / "seven.png"), photo)
    where = run_installed(installed, tmp_path, "-c", "import recognizer; print(recognizer.__version__, recognizer.asset('models'))")
    version, models = where.stdout.split()
    assert version == recognizer.__version__
    assert Path(models).is_relative_to(installed) and (Path(models) / "digits.tflite").is_file()
    script = installed / "bin" / "digits"
    run = run_installed(installed, tmp_path, str(script), "--source", "seven.png", "--json", "out.jsonl")
    assert run.returncode == 0, run.stderr
    (record,) = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [d["digit"] for d in record["digits"]] == [7]


def test_installed_demo_writes_under_the_working_folder(installed, tmp_path):
    run = run_installed(installed, tmp_path, str(installed / "bin" / "digits"), "--demo", "--max-frames", "2",
                        "--no-display")
    assert run.returncode == 0, run.stderr
    assert len((tmp_path / "runs" / "demo" / "demo.jsonl").read_text().splitlines()) == 2


def test_the_base_install_pulls_neither_tensorflow_nor_ray():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = " ".join(project["dependencies"]).lower()
    assert not any(name in base for name in ("tensorflow", "ray", "pyarrow", "pytest"))
    extras = project["optional-dependencies"]
    assert any(d.startswith("ray[data]") for d in extras["ray"])
    assert any(d.startswith("tensorflow") for d in extras["train"])
