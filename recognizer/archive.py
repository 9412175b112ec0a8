"""The files of an archive, and reading one of them into records: what `digits batch`'s engines share.

    sources = list_sources("scans/")            # a folder (recursive), a glob, a URI prefix, one file
    reader = SourceReader(model=None, conf=None, config=None, form=None)
    records = reader.read(sources[0])            # main.py --json's records; an error record, never a raise

A source is a folder (read recursively), a glob, a URI (`s3://`, `gs://`, ... through pyarrow's
file systems) or one file. Each file is one unit of work: an image gives one record, the same
record as `main.py --json` writes for it; a video gives one record per frame, tracking and reuse
on and restarted for each file, as `Recognizer.stream` reads it; a file that cannot be read
gives one record with an `error`. In forms mode (`--form TEMPLATE|auto`) each image gives one
form record, as `main.py --form --json` writes it.
"""
from __future__ import annotations

import glob
import sys
from pathlib import Path

from recognizer.capture import IMAGE_EXTENSIONS, SourceError, decode_checked, read_checked

VIDEO_EXTENSIONS = {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv"}


def is_uri(source: str) -> bool:
    """s3://bucket/key, gs://..., hdfs://..., file:///path: read through pyarrow's file systems."""
    scheme = source.split("://", 1)[0] if "://" in source else ""
    return bool(scheme) and scheme.isalnum()


def list_sources(source: str) -> list[str]:
    """The files to read, sorted: a folder's images and videos (recursively), a glob's, a URI
    prefix's, or the one file named. SourceError when there are none."""
    if is_uri(source):
        found = _uri_files(source)
    elif Path(source).is_dir():
        found = [str(p) for p in Path(source).rglob("*") if _readable_kind(p.name) and not p.is_dir()]
    elif glob.has_magic(source):
        found = [p for p in glob.glob(source, recursive=True) if _readable_kind(p) and not Path(p).is_dir()]
    elif Path(source).exists():
        found = [source]
    else:
        raise SourceError(f"source not found: {source}")
    if not found:
        raise SourceError(f"no images or videos in {source}")
    return sorted(found)


def _readable_kind(name: str) -> bool:
    suffix = Path(name).suffix.lower()
    return suffix in IMAGE_EXTENSIONS or suffix in VIDEO_EXTENSIONS


def _uri_files(uri: str) -> list[str]:
    """Files under a URI prefix (or matching its glob), through pyarrow.fs (installed with .[ray])."""
    try:
        from pyarrow import fs
    except ImportError:
        raise SourceError(f"reading {uri} needs pyarrow: pip install '.[ray]'") from None
    base = uri.split("*", 1)[0].rsplit("/", 1)[0] if glob.has_magic(uri) else uri
    try:
        filesystem, root = fs.FileSystem.from_uri(base)
        infos = filesystem.get_file_info(fs.FileSelector(root, recursive=True))
    except Exception as exc:  # pyarrow raises OSError, ValueError or ArrowInvalid by scheme
        raise SourceError(f"cannot list {uri}: {str(exc).splitlines()[0]}") from None
    scheme = uri.split("://", 1)[0]
    names = [f"{scheme}://{info.path}" for info in infos if info.type == fs.FileType.File]
    if glob.has_magic(uri):
        import fnmatch

        names = [n for n in names if fnmatch.fnmatch(n, uri) or fnmatch.fnmatch(n, uri.replace("**/", ""))]
        # (as glob's "**/": any folders, or none)
    return [n for n in names if _readable_kind(n)]


class SourceReader:
    """Reads one source file into its records; what an engine's worker holds (one model each).

    settings: the picklable arguments (`reader_settings`): model, conf, config, form.
    frame_bar: show a bar of a video's frames as they are read (the local engine on a terminal)."""

    def __init__(self, model=None, conf: float | None = None, config=None, form: str | None = None,
                 frame_bar: bool = False):
        self.frame_bar = frame_bar
        import cv2

        from recognizer.pipeline import Recognizer

        cv2.setNumThreads(1)  # one core per reader: the engines run one reader per core
        self.recognizer = Recognizer(model, conf=conf, threads=1, config=config)
        self.forms = None
        if form:
            from recognizer.forms.reader import FormReader
            from recognizer.forms.template import load_template

            template = None if form == "auto" else load_template(form)
            self.forms = FormReader(template, self.recognizer.classifier, conf=conf)

    def read(self, source: str) -> list[dict]:
        """The records of one file (see the module docstring); never raises for a bad file."""
        try:
            if Path(source).suffix.lower() in VIDEO_EXTENSIONS:
                return self._video(source)
            image, why = _image(source)
            if image is None:
                raise ValueError(f"cannot read image {source}: {why}")
            if self.forms is None:
                return [self.recognizer(image, source=source).to_record()]
            from recognizer.config import use
            from recognizer.forms.batch import read_form

            use(self.recognizer.config)  # the forms modules read theirs as they run
            return [read_form(self.forms, image, source).to_record()]
        except (SourceError, ValueError, OSError) as exc:
            return [{"source": source, "error": str(exc).splitlines()[0]}]

    def _video(self, source: str) -> list[dict]:
        if self.forms is not None:
            raise ValueError(f"{source}: forms mode reads images, not videos")
        if is_uri(source):  # OpenCV opens files and streaming URLs, not object stores
            raise ValueError(f"{source}: a video is read from a path on a file system, not a URI")
        frames = self.recognizer.stream(source)
        if self.frame_bar:  # a long video is one source: its frames show it is not stuck
            from tqdm import tqdm

            frames = tqdm(frames, desc=Path(source).name, unit="frame", leave=False, file=sys.stderr,
                          mininterval=0.5)
        records = [results.to_record() for results in frames]
        if not records:
            raise ValueError(f"{source}: no frame could be read")
        return records


def _image(source: str):
    """(image, "") or (None, why): a local path through capture.read_checked, a URI's bytes
    through pyarrow, checked the same way (capture.decode_checked)."""
    if not is_uri(source):
        return read_checked(Path(source))
    from pyarrow import fs

    filesystem, path = fs.FileSystem.from_uri(source)
    with filesystem.open_input_file(path) as fh:
        return decode_checked(fh.read())
