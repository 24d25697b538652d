"""Where the code is, and where a local install keeps its state (the embedded PostgreSQL, the secret key,
uploads). Not in settings.py alone: the entry points need DATA_DIR to start the embedded server before
Django may read the settings (annotator/embedded_postgres.py)."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("ANNOTATOR_DATA_DIR", BASE_DIR / ".data"))
