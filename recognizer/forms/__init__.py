"""Paper forms: rectify the page, read boxed/comb/ruled fields by name, batch folders to CSV.

    python main.py --source scan.jpg --form template.json       # fields of one form
    python main.py --source scans/ --form template.json --output forms.csv --json forms.jsonl
    python main.py --source sudoku.jpg --form auto               # find boxes and grids by themselves

Modules, in the order the data flows: page (find and flatten the sheet), register
(place a template by its boxes when no page edge shows), auto (find boxed tables),
grid (printed lines and cells), crops (the ink in a cell), fields (cut one field),
reader (one classifier call per page, assemble), batch (folder -> CSV + JSON
lines); template describes a form, draft writes one from a blank form.
"""
from __future__ import annotations

from pathlib import Path

from recognizer.log import configure_once, log

DEFAULT_CSV_DIR = Path("runs") / "forms"


def run(args) -> int:
    """`main.py --form`: read the --source image or folder; 0 when every page was read."""
    configure_once(getattr(args, "verbosity", 0))
    from recognizer.config import use

    use(getattr(args, "config", None))  # the forms modules read their settings (forms.* sections) when used
    from recognizer.classifier import DigitClassifier, ModelError
    from recognizer.forms.batch import FormWriter, csv_columns, image_paths, process
    from recognizer.forms.reader import FormReader
    from recognizer.forms.template import TemplateError, load_template
    from recognizer.output import write_image

    try:
        template = None if args.form == "auto" else load_template(args.form)
        paths = image_paths(args.source)
        if not paths:
            raise FileNotFoundError(f"no images in folder {args.source}")
        reader = FormReader(template, DigitClassifier(getattr(args, "model", None)),
                            conf=getattr(args, "conf", None))  # None: forms.reader.default_conf; 0 stays 0
    except (TemplateError, ModelError, FileNotFoundError) as exc:
        log.error(str(exc))
        return 1
    output = getattr(args, "output", None)
    annotate = output and len(paths) == 1 and Path(output).suffix.lower() in (".png", ".jpg", ".jpeg")
    csv_path = None if annotate else output
    if csv_path is None and len(paths) > 1:
        csv_path = DEFAULT_CSV_DIR / f"{Path(args.source).name or 'forms'}.csv"
        log.info(f"forms: writing {csv_path}")

    def save_overlay(result, image):
        if annotate:
            write_image(Path(output), result.to_results().plot(image))

    try:
        with FormWriter(csv_columns(reader), csv_path, getattr(args, "json", None)) as writer:
            done, failed = process(reader, paths, writer, on_result=save_overlay)
    except OSError as exc:
        log.error(f"cannot write output: {exc}")
        return 1
    except KeyboardInterrupt:
        log.info("interrupted: the rows written so far are complete")
        return 130
    if failed:
        log.info(f"forms: {done} read, {failed} failed (see the error column)")
    return 1 if failed else 0
