"""`digits batch` (recognizer/batch.py): an archive read into one results file, by the local
engine and by Ray, with the same records; bad files are rows, interruptions resume.

The archive is drawn by the test: photographed pages of MNIST test digits (training/scenes.py),
one corrupt image and one short video. The Ray tests need `pip install '.[ray]'` (CI installs
it) and are skipped, saying so, without it.
"""
from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer.archive import SourceReader, list_sources
from recognizer.cli import main as cli_main
from test_cli import ROOT, main_py  # tests/ is on the path (pytest prepends it)

PAGES = 60
needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="Ray is not installed (pip install '.[ray]')")


@pytest.fixture(scope="module")
def archive(tmp_path_factory, mnist):
    """PAGES pages in a folder and a sub-folder, a corrupt PNG, a 12-frame video, and a text file."""
    from training.scenes import make_scene

    _, (x_test, y_test) = mnist
    folder = tmp_path_factory.mktemp("archive")
    (folder / "more").mkdir()
    rng = np.random.default_rng(23)
    for i in range(PAGES):
        image, _, _ = make_scene(rng, x_test, y_test, width=640, height=480, n_digits=12, camera=0.4)
        cv2.imwrite(str(folder / ("more" if i % 4 == 0 else ".") / f"page_{i:03d}.jpg"), image)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (folder / "notes.txt").write_text("not an image")
    writer = cv2.VideoWriter(str(folder / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (640, 480))
    for _ in range(12):
        writer.write(image)
    writer.release()
    return folder


def sorted_records(path: Path) -> list[dict]:
    return sorted((json.loads(line) for line in path.open()), key=lambda r: (r["source"], r.get("frame", 0)))


def batch_py(*args, **kw):
    return main_py("batch", *args, **kw)


@pytest.fixture(scope="module")
def local_run(archive, tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "results.jsonl"
    proc = batch_py("--source", archive, "--output", out)
    assert proc.returncode == 0, proc.stderr
    return sorted_records(out), proc


def test_local_engine_reads_every_image_and_video_frame_and_makes_bad_files_rows(archive, local_run):
    records, proc = local_run
    sources = {r["source"] for r in records}
    assert sources == {str(p) for p in archive.rglob("*") if p.suffix in (".jpg", ".png", ".avi")}
    assert len(records) == PAGES + 1 + 12  # a record per page, the error row, one per video frame
    broken = [r for r in records if r["source"].endswith("broken.png")]
    assert broken == [{"source": str(archive / "broken.png"),
                       "error": f"cannot read image {archive / 'broken.png'}: not a valid image file"}]
    video = [r for r in records if r["source"].endswith("clip.avi")]
    assert [r["frame"] for r in video] == list(range(12)) and all("track" in d for d in video[-1]["digits"])
    assert sum(len(r.get("digits", [])) for r in records) >= PAGES * 12 * 0.8
    assert "1 with an error" in proc.stderr


def test_an_image_gets_the_record_main_py_writes_for_it(archive, local_run, tmp_path):
    page = archive / "page_001.jpg"
    proc = main_py("--source", page, "--json", tmp_path / "one.jsonl")
    assert proc.returncode == 0, proc.stderr
    assert [r for r in local_run[0] if r["source"] == str(page)] == sorted_records(tmp_path / "one.jsonl")


def test_an_existing_output_is_kept_unless_resumed(archive, local_run, tmp_path):
    out = tmp_path / "results.jsonl"
    out.write_text("")
    proc = batch_py("--source", archive, "--output", out)
    assert proc.returncode == 1 and proc.stderr.startswith("error: ") and "--resume" in proc.stderr
    proc = batch_py("--source", archive / "nowhere", "--output", tmp_path / "x.jsonl")
    assert proc.returncode == 1 and proc.stderr.strip() == f"error: source not found: {archive / 'nowhere'}"


@needs_ray
def test_ray_engine_writes_the_local_engines_records_as_jsonl_and_parquet(archive, local_run, tmp_path):
    import pyarrow.parquet as pq
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        assert cli_main(["batch", "--source", str(archive), "--output", str(tmp_path / "r.jsonl"),
                           "--engine", "ray", "--cpus", "2"]) == 0
        assert cli_main(["batch", "--source", str(archive), "--output", str(tmp_path / "r.parquet"),
                           "--engine", "ray", "--cpus", "2"]) == 0
    finally:
        ray.shutdown()
    records = local_run[0]
    assert sorted_records(tmp_path / "r.jsonl") == records
    table = pq.read_table(tmp_path / "r.parquet").to_pylist()
    rows = sorted(table, key=lambda r: (r["source"], r["frame"] or 0))
    assert [r["source"] for r in rows] == [r["source"] for r in records]
    for row, rec in zip(rows, records):
        assert row["error"] == rec.get("error")
        assert [(d["digit"], d["confidence"], d["box"]) for d in row["digits"] or []] == \
            [(d["digit"], d["confidence"], d["box"]) for d in rec.get("digits", [])]
        assert [n["text"] for n in row["numbers"] or []] == [n["text"] for n in rec.get("numbers", [])]


def _wait_for_lines(path: Path, n: int, proc: subprocess.Popen, timeout: float = 90) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if path.exists() and path.read_text().count("\n") >= n:
            return path.read_text().count("\n")
        time.sleep(0.05)
    return path.read_text().count("\n") if path.exists() else 0


def _start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "batch", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@needs_ray
def test_an_interrupted_ray_job_resumes_reading_only_the_rest(archive, local_run, tmp_path):
    out = tmp_path / "results.jsonl"
    proc = _start("--source", archive, "--output", out, "--engine", "ray", "--cpus", "1")
    _wait_for_lines(out, 8, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    kept = {json.loads(line)["source"] for line in out.read_text().splitlines()}
    assert 0 < len(kept) < PAGES  # it was stopped part-way
    proc = batch_py("--source", archive, "--output", out, "--engine", "ray", "--cpus", "2", "--resume",
                    timeout=180)
    assert proc.returncode == 0, proc.stderr
    done = len(kept) - 1  # the last source of an interrupted file is read again (it may be torn)
    assert f"resume: {done} of {PAGES + 2} sources already in" in proc.stderr
    assert f"reading {PAGES + 2 - done}" in proc.stderr
    assert sorted_records(out) == local_run[0]  # every source once, the same records


def _reader_processes() -> list[int]:
    """PIDs of the Ray workers holding a SourceReader (their title names the actor's class)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"ReadSources" in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue  # a process that ended meanwhile
    return pids


@needs_ray
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds Ray's worker processes through /proc (Linux)")
def test_a_killed_ray_worker_is_replaced_and_the_job_completes(archive, local_run, tmp_path):
    out = tmp_path / "results.jsonl"
    proc = _start("--source", archive, "--output", out, "--engine", "ray", "--cpus", "2")
    _wait_for_lines(out, 8, proc)
    workers = _reader_processes()
    assert workers, "no Ray worker holding a SourceReader was found"
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert sorted_records(out) == local_run[0]


def test_list_sources_reads_folders_recursively_and_globs(archive):
    everything = list_sources(str(archive))
    assert len(everything) == PAGES + 2 and all(not s.endswith(".txt") for s in everything)
    assert list_sources(str(archive / "more" / "*.jpg")) == sorted(str(p) for p in (archive / "more").glob("*.jpg"))
    assert list_sources(str(archive / "**" / "page_00*.jpg")) == \
        sorted(str(p) for p in archive.rglob("page_00*.jpg"))


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="pyarrow is not installed (pip install '.[ray]')")
def test_forms_mode_writes_each_template_field_as_a_parquet_column(tmp_path):
    import csv

    import pyarrow.parquet as pq

    forms = ROOT / "assets" / "forms"
    out = tmp_path / "forms.parquet"
    proc = batch_py("--source", forms / "example_form.jpg", "--output", out,
                    "--form", forms / "example_template.json")
    assert proc.returncode == 0, proc.stderr
    (row,) = pq.read_table(out).to_pylist()
    with open(forms / "example_expected.csv") as fh:
        (expected,) = csv.DictReader(fh)
    assert row["source"] == str(forms / "example_form.jpg") and row["error"] is None
    assert {k: row[k] for k in expected if k != "file"} == {k: v for k, v in expected.items() if k != "file"}


def test_the_local_engine_never_imports_ray_or_tensorflow(archive, tmp_path):
    code = ("import sys; from recognizer.cli import main; "
            f"rc = main(['batch', '--source', {str(archive / 'more')!r}, '--output', {str(tmp_path / 'o.jsonl')!r}, '-q']); "
            "print(rc, sorted(m for m in ('ray', 'tensorflow', 'pyarrow') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.stdout.split(None, 1) == ["0", "[]\n"], run.stderr


def test_a_bad_model_or_template_is_one_error_line_and_leaves_no_output(archive, tmp_path):
    for flag, value, says in (("--model", tmp_path / "none.tflite", "none.tflite"),
                              ("--form", tmp_path / "none.json", "none.json")):
        out = tmp_path / "r.jsonl"
        proc = batch_py("--source", archive / "more", "--output", out, flag, value)
        assert proc.returncode == 1 and proc.stderr.startswith("error: ") and says in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and not out.exists()


def test_files_that_give_no_image_or_no_frame_are_error_rows(tmp_path):
    empty = tmp_path / "empty.mp4"
    cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (64, 48)).release()
    reader = SourceReader()
    for source in (str(empty), "s3://bucket/clip.mp4", str(tmp_path / "gone.png")):
        (record,) = reader.read(source)
        assert set(record) == {"source", "error"} and record["source"] == source and record["error"]


def test_resuming_json_lines_drops_a_torn_tail_and_the_last_source(tmp_path):
    from recognizer.batch_output import open_output
    from recognizer.output import OutputError

    path = tmp_path / "r.jsonl"
    lines = [{"source": "a", "frame": 0}, {"source": "a", "frame": 1}, {"source": "b", "frame": 0}]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines) + '{"source": "c", "fr')
    with open_output(str(path), resume=True) as output:
        assert output.done == {"a"}
        output.write("b", [{"source": "b", "frame": 0}])
    assert [json.loads(line)["source"] for line in path.read_text().splitlines()] == ["a", "a", "b"]
    path.write_text('{"source": "a"}\nnot json\n{"source": "b"}\n')
    with pytest.raises(OutputError, match="r.jsonl:2"):
        open_output(str(path), resume=True)


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="pyarrow is not installed (pip install '.[ray]')")
def test_resuming_parquet_numbers_new_parts_after_the_highest(tmp_path):
    import pyarrow.parquet as pq

    from recognizer.batch_output import open_output

    path = tmp_path / "r.parquet"
    for name in ("a", "b", "c"):
        with open_output(str(path), resume=True) as output:
            output.write(name, [{"source": name, "frame": 0, "width": 1, "height": 1, "digits": []}])
    (path / "part-00001.parquet").unlink()  # a part lost (deleted by hand): its source is read again
    with open_output(str(path), resume=True) as output:
        assert output.done == {"a", "c"}
        output.write("b", [{"source": "b", "frame": 0, "width": 1, "height": 1, "digits": []}])
    assert sorted(p.name for p in path.iterdir()) == ["part-00000.parquet", "part-00002.parquet",
                                                      "part-00003.parquet"]
    assert sorted(pq.read_table(path).column("source").to_pylist()) == ["a", "b", "c"]


def test_ray_tasks_hold_one_video_or_a_few_images_videos_first():
    from recognizer.batch_ray import IMAGES_PER_TASK, tasks

    images = [f"p{i:02d}.jpg" for i in range(IMAGES_PER_TASK + 3)]
    units = tasks(images[:4] + ["b.mp4", "a.AVI"] + images[4:])
    assert units[:2] == [["b.mp4"], ["a.AVI"]]
    assert units[2:] == [images[:IMAGES_PER_TASK], images[IMAGES_PER_TASK:]]


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="pyarrow is not installed (pip install '.[ray]')")
def test_a_uri_source_is_listed_and_read_through_pyarrow(archive, local_run, tmp_path):
    """file:// goes the way s3:// and gs:// go (pyarrow's file systems): listed, globbed, read,
    the same records; a video under a URI is an error row (OpenCV reads videos from paths)."""
    uri = archive.as_uri()
    assert list_sources(uri) == [f"file://{s}" for s in list_sources(str(archive))]
    assert list_sources(uri + "/**/page_00*.jpg") == [f"file://{s}" for s in list_sources(str(archive / "**" / "page_00*.jpg"))]
    out = tmp_path / "uri.jsonl"
    proc = batch_py("--source", uri + "/more", "--output", out)
    assert proc.returncode == 0, proc.stderr
    by_uri = sorted_records(out)
    local = [r for r in local_run[0] if "/more/" in r["source"]]
    assert [{**r, "source": r["source"][len("file://"):]} for r in by_uri] == local
    (record,) = SourceReader().read(uri + "/clip.avi")
    assert "not a URI" in record["error"]
