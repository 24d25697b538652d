"""Dump files uploaded on the Imports page: streamed to disk, never held in memory, then handed to the worker.

Each upload gets its own directory under `settings.IMPORT_UPLOAD_DIR/incoming`;
each file keeps its own name (problems are reported by file name, and
`.gz`/`.zip` are recognised by it). The SHA-256 is computed while the bytes go
by, so a 2 GB dump is not read twice. A valid upload then moves to the upload
storage (`STORAGES["imports"]`), which every web process and task worker
reaches: by default the directory IMPORT_UPLOAD_DIR itself (a rename, not a
copy), on a larger setup a shared volume or an object store.
"""

import hashlib
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.template.defaultfilters import filesizeformat

# A file keeps its name on disk, and file systems take names of at most 255 bytes.
MAX_NAME_BYTES = 255


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
        self.token = secrets.token_hex(16)
        self.directory = Path(settings.IMPORT_UPLOAD_DIR) / "incoming" / self.token
        self.errors: list[str] = []
        self.kept = False
        self._count = 0
        self._path: Path | None = None
        self._out = None  # not `file`: the multipart parser closes a handler's `file` itself
        self._sha256 = None

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        if len(self.file_name.encode()) > MAX_NAME_BYTES:
            self._refuse(
                f"The file name {self.file_name[:60]}… is too long ({len(self.file_name)} characters); "
                "rename the file to a shorter name and upload it again."
            )
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

    def store(self, files: list[StoredUpload]) -> list[str]:
        """Move the files to the upload storage; their names there, for the worker."""
        storage = upload_storage()
        names = []
        for number, file in enumerate(files, start=1):
            with file.open():
                names.append(storage.save(f"{self.token}/{number}/{file.name}", file))
        self.kept = True
        shutil.rmtree(self.directory, ignore_errors=True)
        return names

    def discard(self) -> None:
        self._remove_current()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _too_large(self):
        self._refuse(f"The file {self.file_name} is larger than the {filesizeformat(self.max_bytes)} limit.")

    def _refuse(self, reason: str):
        self.errors.append(reason)
        raise SkipFile

    def _remove_current(self) -> None:
        if self._out is not None:
            self._out.close()
            self._path.unlink(missing_ok=True)
            self._out = self._path = None


def upload_storage() -> Storage:
    """STORAGES["imports"]; the file system one, unless told otherwise, in IMPORT_UPLOAD_DIR."""
    params = settings.STORAGES["imports"]
    if params["BACKEND"].endswith(".FileSystemStorage") and "location" not in params.get("OPTIONS", {}):
        return FileSystemStorage(location=settings.IMPORT_UPLOAD_DIR)
    return storages["imports"]


@contextmanager
def local_files(names: list[str]) -> Iterator[list[Path]]:
    """Paths on this machine to the stored uploads: where they are, or copies made for the time of the import."""
    storage = upload_storage()
    if isinstance(storage, FileSystemStorage):
        yield [Path(storage.path(name)) for name in names]
        return
    with tempfile.TemporaryDirectory(prefix="annotator-import-") as directory:
        paths = []
        for number, name in enumerate(names, start=1):
            path = Path(directory) / str(number) / Path(name).name
            path.parent.mkdir()
            with storage.open(name) as stored, path.open("wb") as local:
                shutil.copyfileobj(stored, local, 1024 * 1024)
            paths.append(path)
        yield paths


def remove_uploads(names: list[str]) -> None:
    """Delete the stored uploads (an upload's folder too, on a file system)."""
    storage = upload_storage()
    for name in names:
        storage.delete(name)
    if isinstance(storage, FileSystemStorage):
        root = Path(storage.location).resolve()
        for token in {name.split("/", 1)[0] for name in names}:
            if token and (root / token).resolve().parent == root:
                shutil.rmtree(root / token, ignore_errors=True)
