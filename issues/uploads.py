"""Dump files uploaded on the Imports page: streamed to disk, never held in memory.

Each upload gets its own directory under `settings.IMPORT_UPLOAD_DIR`, which
the task worker reads from; each file keeps its own name there (problems are
reported by file name, and `.gz`/`.zip` are recognised by it). The SHA-256 is
computed while the bytes go by, so a 2 GB dump is not read twice.
"""

import hashlib
import secrets
import shutil
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.template.defaultfilters import filesizeformat


class StoredUpload(UploadedFile):
    """An uploaded file that is already complete on disk."""

    def __init__(self, path: Path, content_type: str, size: int, charset: str | None, sha256: str):
        super().__init__(None, path.name, content_type, size, charset)
        self.path = path
        self.sha256 = sha256

    def temporary_file_path(self) -> str:
        return str(self.path)

    def open(self, mode: str = "rb") -> "StoredUpload":
        self.file = self.path.open(mode)
        return self

    def close(self) -> None:
        # The request closes its files when it ends; this one is only open if someone opened it.
        if self.file is not None:
            self.file.close()

    def description(self) -> dict:
        """As ImportRun.files records a file."""
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


class ImportUploadHandler(FileUploadHandler):
    """Writes every file of one request into a new directory; skips a file over the size limit.

    A skipped file is deleted and named in `errors`; the other fields of the
    form are still read, so the form comes back with the admin's choices.
    Whoever keeps the files calls `keep()`; otherwise `discard()` deletes them.
    """

    def __init__(self, request=None):
        super().__init__(request)
        self.max_bytes = settings.IMPORT_MAX_UPLOAD_BYTES
        self.directory = Path(settings.IMPORT_UPLOAD_DIR) / secrets.token_hex(16)
        self.errors: list[str] = []
        self.kept = False
        self._count = 0
        self._path: Path | None = None
        self._out = None  # not `file`: the multipart parser closes a handler's `file` itself
        self._sha256 = None

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        if self.content_length is not None and self.content_length > self.max_bytes:
            self._too_large()
        self._count += 1
        # A directory per file: two files of the same name may come from different folders.
        self._path = self.directory / str(self._count) / self.file_name
        self._path.parent.mkdir(parents=True)
        self._out = self._path.open("wb")
        self._sha256 = hashlib.sha256()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if start + len(raw_data) > self.max_bytes:
            self._remove_current()
            self._too_large()
        self._out.write(raw_data)
        self._sha256.update(raw_data)
        return None  # no other handler needs the bytes

    def file_complete(self, file_size: int) -> StoredUpload:
        self._out.close()
        upload = StoredUpload(self._path, self.content_type, file_size, self.charset, self._sha256.hexdigest())
        self._out = self._path = None
        return upload

    def upload_interrupted(self) -> None:
        self._remove_current()

    def keep(self) -> None:
        self.kept = True

    def discard(self) -> None:
        self._remove_current()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _too_large(self):
        self.errors.append(f"The file {self.file_name} is larger than the {filesizeformat(self.max_bytes)} limit.")
        raise SkipFile

    def _remove_current(self) -> None:
        if self._out is not None:
            self._out.close()
            self._path.unlink(missing_ok=True)
            self._out = self._path = None


def remove_uploaded_files(paths: list[str]) -> None:
    """Delete the upload directories these files are in (only ever under IMPORT_UPLOAD_DIR)."""
    root = Path(settings.IMPORT_UPLOAD_DIR).resolve()
    for path in map(Path.resolve, map(Path, paths)):
        if path.is_relative_to(root) and len(path.relative_to(root).parts) > 1:
            shutil.rmtree(root / path.relative_to(root).parts[0], ignore_errors=True)
