"""Where a command's output files go: never onto one of its inputs, and all of them at once or none.

Every CLI that writes files follows the same two rules, kept here once:

- `check_outputs` refuses, before any work starts, an output that is one of the command's inputs (by
  resolved path, and by `os.path.samefile` where both exist, so links and `./a/../a` are caught), an output
  that is a folder, and an output whose folder is missing or not writable. A typo in `--out` must not
  replace a researcher's world logs, nor create a new tree of folders somewhere unexpected.
- `staged_outputs` writes every output to a temporary file in its target folder and renames them all into
  place only when the whole command has succeeded, so a failure (a bad line late in a file, a full disk,
  Ctrl-C) leaves neither a partial file nor half of a set of files that belong together. An output folder
  that does not exist yet is staged as a hidden folder beside it and renamed into place at the end.
- `staged_folder` does the same for an output that is a whole folder (a report, an imported model): it is
  filled beside the target and replaces it whole at the end.

Files and folders we create get the permissions the user's umask gives, like any file they make
(temporary files start as 0600, which would hide a report from a colleague on a shared server).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from humaneval.input_errors import InputError

logger = logging.getLogger(__name__)


def _resolved(path: Path) -> Path:
    """The absolute path with links followed as far as they go (a link loop stays as written)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11)
        return path.absolute()


def _same_file(a: Path, b: Path) -> bool:
    if _resolved(a) == _resolved(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (or cannot be looked at): not the same file
        return False


def _inside(path: Path, folder: Path) -> bool:
    return _resolved(path).is_relative_to(_resolved(folder))


def check_writable_folder(folder: Path, *, field: str | None = None) -> None:
    """The folder an output goes into must exist and be writable: we never create a tree of folders."""
    if not folder.exists():
        raise InputError("folder does not exist; create it first", path=folder, field=field)
    if not folder.is_dir():
        raise InputError("is not a folder", path=folder, field=field)
    # Try it rather than ask os.access: root passes every mode check, and a read-only mount fails anyway.
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-check.", dir=folder)
    except OSError as err:
        raise InputError(f"cannot write in this folder ({err.strerror})", path=folder, field=field) from None
    os.close(fd)
    os.unlink(probe)


def check_outputs(
    outputs: Iterable[str | Path],
    *,
    inputs: Iterable[str | Path | None] = (),
    field: str | None = None,
    folders: Iterable[str | Path] = (),
    replaces_folders: bool = False,
) -> None:
    """Refuse outputs that would replace an input, are folders, or cannot be written; see the module doc.

    `outputs` are files; `folders` are output folders that may be created (their parent must exist).
    `inputs` may hold folders: a file output inside an input folder is allowed, the folder itself is not.
    `replaces_folders`: the command replaces each output folder as a whole (a report), so no input may
    lie anywhere inside one.
    """
    input_paths = [Path(p) for p in inputs if p is not None]
    for folder in (Path(f) for f in folders):
        if folder.exists() and not folder.is_dir():
            raise InputError("exists and is not a folder", path=folder, field=field)
        if not folder.exists():
            check_writable_folder(folder.parent if str(folder.parent) else Path("."), field=field)
        for source in input_paths:
            if _same_file(folder, source) or (replaces_folders and _inside(source, folder)):
                raise InputError(f"holds an input ({source}), which writing here would replace; choose another "
                                 "output folder", path=folder, field=field)
    for out in (Path(o) for o in outputs):
        if out.is_dir():
            raise InputError("is a folder; give a file name", path=out, field=field)
        refuse_non_regular_output(out, field)
        parent = out.parent if str(out.parent) else Path(".")
        if not any(_same_file(parent, Path(f)) for f in folders):
            check_writable_folder(parent, field=field)
        for source in input_paths:
            if _same_file(out, source):
                raise InputError(f"is also an input ({source}); choose another output file", path=out, field=field)


def refuse_non_regular_output(out: Path, field: str | None = None) -> None:
    """An output is written beside its target and renamed over it, which would replace a device (as root,
    `/dev/null` would become a file), a pipe or a symbolic link instead of writing into it: refuse them."""
    if out.is_symlink():
        raise InputError("is a symbolic link; writing would replace the link, not its target: give the target's "
                         "own path", path=out, field=field)
    if out.exists() and not out.is_file():
        raise InputError("exists and is not a regular file (a device, pipe or socket); give a file path", path=out,
                         field=field)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    """Data on disk before the rename makes it visible: a power cut must not leave an empty file in place."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StagedOutputs:
    """Temporary twins of a set of output files; `commit` renames them all into place."""

    def __init__(self, finals: Sequence[str | Path]) -> None:
        self.finals = [Path(p) for p in finals]
        if len({_resolved(p) for p in self.finals}) != len(self.finals):
            raise ValueError("the same output file is named twice")
        for final in self.finals:  # also for writers that did not call check_outputs
            refuse_non_regular_output(final)
        self._temps: dict[Path, Path] = {}
        self._staged_folders: dict[Path, Path] = {}  # missing target folder -> hidden staging folder
        try:
            for final in self.finals:
                self._temps[final] = self._temp_for(final)
        except BaseException:
            self.discard()
            raise

    def _temp_for(self, final: Path) -> Path:
        folder = final.parent
        if not folder.exists():
            staging = self._staged_folders.get(folder)
            if staging is None:
                staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
                self._staged_folders[folder] = staging
            return staging / final.name
        fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=folder)
        os.close(fd)
        return Path(name)

    def __getitem__(self, final: str | Path) -> Path:
        """Where to write the output `final` until the commit."""
        return self._temps[Path(final)]

    def commit(self) -> None:
        """Give every output the umask's permissions, then rename them (and new folders) into place."""
        umask = _umask()
        for temp in self._temps.values():
            if temp.exists():
                os.chmod(temp, 0o666 & ~umask)
                _fsync(temp)
        for final, temp in self._temps.items():
            if final.parent in self._staged_folders:
                continue
            if temp.exists():
                os.replace(temp, final)
        for folder, staging in self._staged_folders.items():
            os.chmod(staging, 0o777 & ~umask)
            staging.rename(folder)
        self._temps.clear()
        self._staged_folders.clear()

    def discard(self) -> None:
        """Remove every temporary file and staging folder; the targets stay as they were."""
        for final, temp in self._temps.items():
            if final.parent not in self._staged_folders:
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
        for staging in self._staged_folders.values():
            shutil.rmtree(staging, ignore_errors=True)
        self._temps.clear()
        self._staged_folders.clear()


@contextlib.contextmanager
def staged_outputs(finals: Sequence[str | Path]) -> Iterator[StagedOutputs]:
    """Write to `staged[path]` inside the block; all outputs appear when it ends without an error."""
    staged = StagedOutputs(finals)
    try:
        yield staged
        staged.commit()
    finally:
        staged.discard()


@contextlib.contextmanager
def staged_folder(out: str | Path, *, suffix: str = ".tmp") -> Iterator[Path]:
    """A fresh hidden folder of ours beside `out` to fill; when the block succeeds it becomes `out`.

    Our own uniquely named folder (same file system, so the final rename is atomic): nothing that already
    exists is ever cleared to make room, and two writers cannot share one. An existing `out` is replaced
    whole; on any failure (Ctrl-C included) the staging folder is removed and `out` stays as it was.
    """
    out = Path(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=suffix, dir=out.parent))
    try:
        yield staging
        _replace_folder(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already after a successful replace


def _replace_folder(staging: Path, out: Path) -> None:
    """Rename the finished folder to `out`, with the umask's permissions (mkdtemp made it 0700).

    An existing `out` is first renamed onto a fresh empty folder of ours and deleted only once the new one
    is in place, so a failure in between puts it back.
    """
    os.chmod(staging, 0o777 & ~_umask())
    if not out.exists():
        staging.rename(out)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".replaced", dir=out.parent))
    try:
        out.rename(aside)  # rename replaces an empty folder
    except BaseException:
        aside.rmdir()
        raise
    try:
        staging.rename(out)
    except BaseException:
        aside.rename(out)
        raise
    try:
        shutil.rmtree(aside)
    except OSError as err:
        logger.warning("the new %s is in place, but the replaced folder %s could not be removed: %s", out, aside, err)
