"""Real-time handwritten digit recognizer: `python main.py --help`.

Camera 0 by default; --source takes a camera index, video file or URL, image or
folder; --demo runs on the bundled demo video.
"""
import sys

from recognizer.cli import main

if __name__ == "__main__":
    sys.exit(main())
