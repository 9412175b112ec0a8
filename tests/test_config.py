"""One configuration (recognizer/config.py): every tuned number listed, overridable, validated,
and read where it is used, so an override reaches the engine.

Scenes are drawn by the test (training/scenes.py: MNIST test digits photographed on paper).
"""
from __future__ import annotations

import ast
import dataclasses
import json
import pickle
import tomllib
from pathlib import Path

import numpy as np
import pytest

from recognizer.config import PROBABILITIES, SECTIONS, Config, ConfigError, tuned_constants
from test_cli import main_py  # tests/ is on the path (pytest prepends it)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def scene(mnist):
    from training.scenes import make_scene

    _, (x_test, y_test) = mnist
    image, digits, _ = make_scene(np.random.default_rng(8), x_test, y_test, width=640, height=480, n_digits=10,
                                  camera=0.2)
    return image, digits


def test_print_config_lists_every_setting_with_its_meaning_as_toml_that_reads_back():
    proc = main_py("--print-config")
    assert proc.returncode == 0, proc.stderr
    printed = tomllib.loads(proc.stdout)
    assert Config.from_dict(printed) == Config()
    settings = [line for line in proc.stdout.splitlines() if " = " in line]
    fields = sum(len(dataclasses.fields(values)) for _, values in Config().items())
    assert len(settings) == fields > 150
    assert all(len(line.split("  # ", 1)[1]) > 10 for line in settings)  # a meaning, not an empty comment


NOT_TUNED = {"NUM_DIGITS"}  # the digit classes, 0-9: a fact, not a setting


def _numeric_constants(module: str) -> set[str]:
    """Module-level UPPER_CASE names given a number, a tuple of numbers or arithmetic on them."""
    import importlib.util

    tree = ast.parse(Path(importlib.util.find_spec(module).origin).read_text())
    numeric = (ast.Constant, ast.Tuple, ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop, ast.Load)
    return {node.targets[0].id for node in tree.body
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id.isupper() and all(isinstance(n, numeric) for n in ast.walk(node.value))}


def test_every_number_of_the_configured_modules_is_a_setting():
    """A number without its meaning on its line (or written as arithmetic) would silently not be
    a setting: each must be one, or be named in NOT_TUNED with the reason."""
    config = Config()
    for section, module in SECTIONS.items():
        names = {f.metadata["constant"] for f in dataclasses.fields(getattr(config, section))}
        assert names == _numeric_constants(module) - NOT_TUNED, section
    assert config.candidates.merge_gap == 0.3 and config.forms.boxes.min_box == 12
    assert config.tracker.window == 5 and config.tilt.near == (0.3, 2.0)


def test_an_override_changes_what_the_engine_finds(scene):
    from recognizer.pipeline import Recognizer

    image, truth = scene
    tallest = max(box[3] for _, box in truth)
    default = Recognizer()(image)
    # "a digit is at least this many px tall": taller than any digit drawn, so none is one
    strict = Recognizer(config=Config.from_dict({"preprocess": {"min_height_px": int(tallest * 3)}}))(image)
    assert len(default.digits) >= 0.8 * len(truth)
    assert len(strict.digits) < len(default.digits) / 2
    assert len(Recognizer()(image).digits) == len(default.digits)  # recognizers take turns: defaults back


def test_config_file_reaches_the_command_line_and_its_workers(scene, tmp_path):
    import cv2

    image, truth = scene
    cv2.imwrite(str(tmp_path / "page.png"), image)
    tallest = max(box[3] for _, box in truth)
    (tmp_path / "strict.toml").write_text(f"[preprocess]\nmin_height_px = {int(tallest * 3)}\n")
    runs = {}
    for name, extra in (("default", []), ("strict", ["--config", tmp_path / "strict.toml"])):
        out = tmp_path / f"{name}.jsonl"
        proc = main_py("--source", tmp_path / "page.png", "--json", out, *extra)
        assert proc.returncode == 0, proc.stderr
        runs[name] = json.loads(out.read_text())
    assert len(runs["strict"]["digits"]) < len(runs["default"]["digits"]) / 2
    assert runs["default"]["digits"]


@pytest.mark.parametrize("toml, says", [
    ("[candidates]\nmerge_gap = -0.3\n", "candidates.merge_gap = -0.3: must be above 0"),
    ("[candidates]\nmerge_gap = 'wide'\n", "must be a number"),
    ("[preprocess]\nmin_height_px = 8.5\n", "must be a whole number"),
    ("[decision]\nconf = 1.5\n", "must be a probability"),
    ("[tilt]\nnear = [0.3]\n", "must be a list of 2 numbers"),
    ("[candidate]\nmerge_gap = 0.3\n", "unknown section candidate"),
    ("[candidates]\nmerge_gapp = 0.3\n", "unknown setting candidates.merge_gapp"),
    ("[candidates\n", "not valid TOML"),
])
def test_a_bad_config_is_one_error_line(tmp_path, toml, says):
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    proc = main_py("--config", path, "--source", "missing.png")
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and says in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_a_config_travels_to_worker_processes_by_pickle():
    config = Config.from_dict({"tracker": {"window": 7}, "forms": {"boxes": {"min_box": 14}}})
    back = pickle.loads(pickle.dumps(config))
    assert back == config and back.tracker.window == 7 and back.forms.boxes.min_box == 14
    assert set(PROBABILITIES) <= {f"{s}.{f.name}" for s, v in Config().items() for f in dataclasses.fields(v)}


def _bound_early(path: Path, names: set[str]) -> list[str]:
    """Where a tuned constant's value is taken before the engine runs (a default argument,
    a from-import, a module-level expression): an override would not reach it."""
    tree, found = ast.parse(path.read_text()), []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
                found += [f"{path}:{node.lineno} default {name}" for name in map(_name_of, ast.walk(default))
                          if name in names]
        if isinstance(node, ast.ClassDef):  # a class attribute is set once, at import
            found += [f"{path}:{node.lineno} class attribute {name}" for stmt in node.body
                      if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None
                      for name in map(_name_of, ast.walk(stmt.value)) if name in names]
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("recognizer"):
            found += [f"{path}:{node.lineno} imports {a.name}" for a in node.names if a.name in names]
    for node in tree.body:
        if isinstance(node, ast.Assign):
            found += [f"{path}:{node.lineno} module-level {name}" for name in map(_name_of, ast.walk(node.value))
                      if name in names]
    return found


def _name_of(node) -> str | None:
    """NAME for `NAME` and `module.NAME`."""
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def test_every_setting_is_read_when_used_so_an_override_reaches_it():
    names = {name for module in SECTIONS.values() for name, _, _ in tuned_constants(module)}
    bound = [hit for path in sorted((ROOT / "recognizer").rglob("*.py")) for hit in _bound_early(path, names)]
    assert not bound, bound


def test_library_code_does_not_print():
    """Only the command-line layers (cli.py, a module's own `main`) print; the rest logs."""
    printing = []
    for path in sorted((ROOT / "recognizer").rglob("*.py")):
        tree = ast.parse(path.read_text())
        allowed = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == "main"
                   for n in ast.walk(f)}
        printing += [f"{path}:{n.lineno}" for n in ast.walk(tree) if isinstance(n, ast.Call)
                     and getattr(n.func, "id", None) == "print" and id(n) not in allowed
                     and path.name != "cli.py"]
    assert not printing, printing


def test_config_errors_name_the_setting():
    with pytest.raises(ConfigError, match="tracker.window"):
        Config.from_dict({"tracker": {"window": 0}})
    assert Config.from_dict({"tracker": {"window": 9}}).tracker.window == 9


def test_a_config_file_reaches_worker_processes_on_video(tmp_path):
    """--workers 2 on the demo: the workers read with --config's settings, not the defaults."""
    demo = ROOT / "assets" / "demo" / "demo.mp4"
    (tmp_path / "strict.toml").write_text("[preprocess]\nmin_height_px = 500\n")  # taller than the frame
    counts = {}
    for name, extra in (("default", []), ("strict", ["--config", tmp_path / "strict.toml"])):
        out = tmp_path / f"{name}.jsonl"
        proc = main_py("--source", demo, "--max-frames", 24, "--workers", 2, "--json", out, *extra)
        assert proc.returncode == 0, proc.stderr
        counts[name] = sum(len(json.loads(line)["digits"]) for line in out.read_text().splitlines())
    assert counts["default"] > 50 and counts["strict"] == 0
