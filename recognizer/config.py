"""One configuration: every tuned number of the engine, typed, with its meaning, settable.

    from recognizer.config import Config
    config = Config.load("mine.toml")               # or Config(), Config.from_dict({...})
    config.candidates.merge_gap                     # 0.3, with its meaning in fields(...)[i].metadata
    Recognizer(config=config)                       # python main.py --config mine.toml
    print(config.to_toml())                         # python main.py --print-config

Where the numbers live. Each tuned number stays where it is used, as a module constant
with a one-line comment saying what it means (`MERGE_GAP = 0.3  # ... when the vertical
gap is below this share of the typical digit height`): the code reads next to its numbers,
and that line is the only place the number and its meaning are written. This module reads
those lines (ast + tokenize) and builds one frozen dataclass per module, a section
(`CandidateConfig` for recognizer/candidates.py, ...), whose fields are the constants,
lower-cased, typed by their defaults. A constant counts as tuned when it is a number (or a
tuple of numbers) with a comment; SIZE, FIT and other plain constants have none.

What is left out on purpose. The 28x28 preparation (normalize.py, context.py) is part of
the model: the networks were trained on it, and it travels with NORMALIZATION_VERSION, not
with a config. Plumbing (queues, timeouts, codecs: capture, workers, output) has flags of
its own where users need them.

Putting a config in force. The engine reads its modules' constants when it runs, so a
config is put in force by setting them (`use(config)`, `config.install()`): for the whole
process, and only when it is not the one already in force (an identity check: free per
frame). None stands for the defaults, the modules' own values: a run without --config never
builds the section classes (parsing 18 sources and making the classes: about 0.1 s). A
Recognizer puts its config in force at the start of each call, so recognizers with different configs in
one process are right when called one after another; threads running recognizers with
different configs at once are not (one config per process: worker processes get the CLI's).

Validation (`Config.from_dict`): an unknown section or name, a value of another type, a
value that is not finite, or one whose sign differs from the default's (every tuned number
is a positive size, share, count or probability, or zero) is refused with a ConfigError
that names it; probabilities (`decision.conf`, `decision.reject`, ...: named in
PROBABILITIES) stay within 0 and 1.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import importlib.util
import math
import threading
from pathlib import Path

SECTIONS = {  # section name -> the module whose tuned constants it holds
    "preprocess": "recognizer.preprocess",
    "paper": "recognizer.paper",
    "lines": "recognizer.lines",
    "tilt": "recognizer.tilt",
    "candidates": "recognizer.candidates",
    "cuts": "recognizer.cuts",
    "decision": "recognizer.pipeline",
    "grouping": "recognizer.grouping",
    "reuse": "recognizer.reuse",
    "tracker": "recognizer.tracking",
    "forms.page": "recognizer.forms.page",
    "forms.auto": "recognizer.forms.auto",
    "forms.grid": "recognizer.forms.grid",
    "forms.boxes": "recognizer.forms.boxes",
    "forms.register": "recognizer.forms.register",
    "forms.fields": "recognizer.forms.fields",
    "forms.crops": "recognizer.forms.crops",
    "forms.reader": "recognizer.forms.reader",
}
PROBABILITIES = {"decision.conf", "decision.reject", "forms.reader.sure_not_digit", "forms.reader.default_conf",
                 "tracker.show", "tracker.hide"}


class ConfigError(ValueError):
    """A configuration file or value that cannot be used; the message names the setting."""


def tuned_constants(module_name: str) -> list[tuple[str, object, str]]:
    """(NAME, value, meaning) for each tuned constant of a module, in source order: a module-level
    NAME = <number or tuple of numbers> with a comment on its line."""
    source = Path(importlib.util.find_spec(module_name).origin).read_text(encoding="utf-8")  # not imported:
    lines = source.splitlines()  # the engine's modules import this one
    found = []
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        after = lines[node.end_lineno - 1][node.end_col_offset:].strip()  # the rest of its line
        name = node.targets[0].id
        if not name.isupper() or not after.startswith("#"):
            continue
        try:
            value = ast.literal_eval(node.value)
        except ValueError:
            continue  # an expression (np.ones(...), a Path): not a number
        if _is_number(value) or (isinstance(value, tuple) and value and all(map(_is_number, value))):
            found.append((name, value, after.lstrip("# ").strip()))
    return found


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _class_name(section: str) -> str:
    return "".join(part.capitalize() for part in section.split(".")) + "Config"


def _section_class(section: str, module_name: str) -> type:
    """The frozen dataclass of one section: a field per tuned constant, default and meaning from
    its line (`dataclasses.fields(cls)[i].metadata["meaning"]`)."""
    fields = [(name.lower(), type(value), dataclasses.field(
        default=value, metadata={"meaning": meaning, "constant": name}))
        for name, value, meaning in tuned_constants(module_name)]
    cls = dataclasses.make_dataclass(_class_name(section), fields, frozen=True)
    cls.__module__ = __name__  # pickled by name (worker processes); make_dataclass names its caller's caller
    cls.__doc__ = f"The tuned numbers of {module_name} (see its module constants)."
    cls.module = module_name
    return cls


@functools.cache
def section_classes() -> dict[str, type]:
    """{section: its dataclass}, built from the modules' sources the first time a Config is made
    (about 0.1 s: a run that keeps the defaults never needs them)."""
    return {section: _section_class(section, module) for section, module in SECTIONS.items()}


def __getattr__(name: str):
    """`recognizer.config.CandidatesConfig`: a section's class by name (how pickle finds it)."""
    for cls in section_classes().values():
        if cls.__name__ == name:
            return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclasses.dataclass(frozen=True)
class Config:
    """Every section's settings (recognizer.config module docstring); `Config()` is the defaults."""

    sections: tuple = dataclasses.field(default_factory=lambda: tuple(cls() for cls in section_classes().values()))

    def __getattr__(self, name: str):
        """`config.candidates`, `config.forms.boxes`: a section (or a group of them) by name."""
        if name.startswith("__"):
            raise AttributeError(name)
        prefix = name + "."
        for section, value in zip(section_classes(), self.sections):
            if section == name:
                return value
        if any(s.startswith(prefix) for s in section_classes()):
            return _Group(self, prefix)
        raise AttributeError(f"no configuration section {name!r}")

    def items(self):
        """(section name, section dataclass) pairs, in SECTIONS order."""
        return zip(section_classes(), self.sections)

    @classmethod
    def from_dict(cls, overrides: dict, origin: str = "config") -> Config:
        """The defaults with `overrides` ({"candidates": {"merge_gap": 0.35}, "forms": {"boxes":
        {...}}}) applied; raises ConfigError naming the first bad setting."""
        flat = _flatten(overrides, origin)
        sections = []
        for section, default in zip(section_classes(), cls().sections):
            changes = {}
            for (sec, name), value in flat.items():
                if sec != section:
                    continue
                if name not in {f.name for f in dataclasses.fields(default)}:
                    raise ConfigError(f"{origin}: unknown setting {section}.{name} (see --print-config)")
                changes[name] = _checked(f"{section}.{name}", getattr(default, name), value, origin)
            sections.append(dataclasses.replace(default, **changes))
        return cls(tuple(sections))

    @classmethod
    def load(cls, path) -> Config:
        """Read a TOML file (`--config`): sections as tables, settings as keys (--print-config's form)."""
        import tomllib

        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except OSError as exc:
            raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        return cls.from_dict(data, origin=str(path))

    def to_toml(self, changed_only: bool = False) -> str:
        """Every setting (or only those that differ from the defaults) as TOML, its meaning beside it."""
        defaults = dict(Config().items())
        out = []
        for section, values in self.items():
            lines = [f"{f.name} = {_toml_value(getattr(values, f.name))}  # {f.metadata['meaning']}"
                     for f in dataclasses.fields(values)
                     if not changed_only or getattr(values, f.name) != getattr(defaults[section], f.name)]
            if lines:
                out += [f"[{section}]  # {values.module}", *lines, ""]
        return "\n".join(out)

    def install(self) -> None:
        """Put these settings in force (module constants) for this process; see the module docstring."""
        use(self)


class _Group:
    """`config.forms`: the sections whose names start with "forms."."""

    def __init__(self, config: Config, prefix: str):
        self._config, self._prefix = config, prefix

    def __getattr__(self, name: str):
        return getattr(self._config, self._prefix + name)


_lock = threading.RLock()
_installed: Config | None = None  # None: the modules' own values (no config was put in force, or defaults)


def use(config: Config | None) -> None:
    """Put `config` in force for this process (None: the defaults, the modules' own values); free
    when it already is, so a Recognizer calls it for every frame."""
    global _installed
    with _lock:
        if _installed is config:
            return
        for values in (config or Config()).sections:
            module = importlib.import_module(type(values).module)
            for f in dataclasses.fields(values):
                setattr(module, f.metadata["constant"], getattr(values, f.name))
        _installed = config


def _flatten(data: dict, origin: str, prefix: str = "") -> dict:
    """{(section, name): value} from nested tables; a table that is no section is refused."""
    flat = {}
    for key, value in data.items():
        path = prefix + key
        if path in section_classes():
            if not isinstance(value, dict):
                raise ConfigError(f"{origin}: {path} must be a table of settings")
            flat.update({(path, name): v for name, v in value.items()})
        elif isinstance(value, dict) and any(s.startswith(path + ".") for s in section_classes()):
            flat.update(_flatten(value, origin, path + "."))
        else:
            raise ConfigError(f"{origin}: unknown section {path} (sections: {', '.join(section_classes())})")
    return flat


def _checked(name: str, default, value, origin: str):
    """The value, of the default's type, finite, of its sign (and a probability where named one)."""
    where = f"{origin}: {name} = {value!r}"
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)) or len(value) != len(default):
            raise ConfigError(f"{where}: must be a list of {len(default)} numbers")
        return tuple(_checked(name, d, v, origin) for d, v in zip(default, value))
    if isinstance(default, int) and not (isinstance(value, int) and not isinstance(value, bool)):
        raise ConfigError(f"{where}: must be a whole number")
    if isinstance(default, float):
        if not _is_number(value):
            raise ConfigError(f"{where}: must be a number")
        value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{where}: must be finite")
    if (default > 0 and value <= 0) or (default >= 0 and value < 0):
        raise ConfigError(f"{where}: must be {'above' if default > 0 else 'at least'} 0")
    if name in PROBABILITIES and value > 1:
        raise ConfigError(f"{where}: must be a probability from 0 to 1")
    return value


def _toml_value(value) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(map(_toml_value, value)) + "]"
    return repr(value)
