"""Real-time handwritten digit recognizer: frame -> candidates -> 28x28 batch -> predictions -> results."""
from pathlib import Path

__version__ = "0.17.0"


def asset(*parts: str) -> Path:
    """A bundled file (models, the demo video, the example form): in a checkout, the top-level
    assets/ folder; in an installed package (`pip install .`), the copy installed inside it."""
    checkout = Path(__file__).resolve().parent.parent / "assets"
    base = checkout if (checkout / "models").is_dir() else Path(__file__).resolve().parent / "assets"
    return base.joinpath(*parts)


def runs_folder() -> Path:
    """Where default outputs go (runs/demo, runs/snapshots): a checkout's own runs/ folder, else
    runs/ in the working directory (an installed package's folder is no place to write)."""
    root = Path(__file__).resolve().parent.parent
    return root / "runs" if (root / "main.py").is_file() else Path("runs")
