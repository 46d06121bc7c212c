"""Where an attempt runs: an empty work directory and the files behind its streams.

Creating and deleting directories and files is journaled metadata work, and
on an ordinary disk it costs more than starting a small process. So each
worker thread keeps a slot: a work directory that is reused while tests
leave it empty, and stdout/stderr files that are truncated between tests.
Every attempt still starts in an empty directory with empty output files.
With `keep`, every attempt gets its own named directory and log files, and
they stay.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
from pathlib import Path

from assay.checks import read_fd
from assay.model import Output


class Workspaces:
    """Hands out workspaces under one run directory; `close` releases everything.

    Safe to use from several threads.
    """

    def __init__(self, root: Path, keep: bool) -> None:
        self.root = root
        self.keep = keep
        self._slots: list[_Slot] = []
        self._free: list[_Slot] = []
        self._lock = threading.Lock()

    def open(self, name: str) -> Workspace:
        """A workspace for one attempt; `name` names its directory when kept."""
        if self.keep:
            workdir = self.root / name
            workdir.mkdir(mode=0o755)
            stdout, stderr = self._named(name, "stdout"), self._named(name, "stderr")
            return Workspace(workdir, stdout, stderr, self)
        with self._lock:
            if self._free:
                slot = self._free.pop()
            else:
                slot = _Slot(self.root, len(self._slots))
                self._slots.append(slot)
        try:
            return Workspace(slot.take(), slot.stdout, slot.stderr, self, slot)
        except OSError:
            with self._lock:
                self._free.append(slot)
            raise

    def give_back(self, slot: _Slot, workdir: Path) -> None:
        """Clean a slot after an attempt and make it available again."""
        slot.give_back(workdir)
        with self._lock:
            self._free.append(slot)

    def _named(self, name: str, stream: str) -> int:
        path = self.root / f"{name}.{stream}"
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)

    def close(self) -> None:
        """Close every slot's files."""
        with self._lock:
            for slot in self._slots:
                slot.close()
            self._slots.clear()


class _Slot:
    """A reusable work directory and output files for one test at a time."""

    def __init__(self, root: Path, number: int) -> None:
        self.root = root
        self.number = number
        self.count = 0
        self.spare: Path | None = None
        self.stdout = -1
        self.stderr = -1

    def take(self) -> Path:
        if self.stdout < 0:
            self.stdout = anonymous_file(self.root)
            self.stderr = anonymous_file(self.root)
        if self.spare is not None:
            workdir, self.spare = self.spare, None
            return workdir
        self.count += 1
        workdir = self.root / f"w{self.number}-{self.count}"
        workdir.mkdir(mode=0o755)
        return workdir

    def give_back(self, workdir: Path) -> None:
        for fd in (self.stdout, self.stderr):
            if os.lseek(fd, 0, os.SEEK_END):  # most tests print little or nothing on stderr
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
        try:
            info = os.lstat(workdir)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode) and _empty(workdir):
            if stat.S_IMODE(info.st_mode) != 0o755:  # a test may have changed it
                workdir.chmod(0o755)
            self.spare = workdir
        else:
            _remove(workdir)

    def close(self) -> None:
        for fd in (self.stdout, self.stderr):
            if fd >= 0:
                os.close(fd)
        self.stdout = self.stderr = -1


class Workspace:
    """One attempt's work directory and stream files; `close` it when done."""

    def __init__(
        self, workdir: Path, stdout: int, stderr: int, owner: Workspaces, slot: _Slot | None = None
    ) -> None:
        self.workdir = workdir
        self.stdout = stdout
        self.stderr = stderr
        self.owner = owner
        self.slot = slot
        self._extra: list[int] = []

    def close(self) -> None:
        """Release the workspace: back to the pool, or closed and kept."""
        for fd in self._extra:
            os.close(fd)
        self._extra.clear()
        if self.slot is not None:
            self.owner.give_back(self.slot, self.workdir)
        else:
            os.close(self.stdout)
            os.close(self.stderr)

    def stdin(self, text: str | None) -> int | None:
        """A descriptor positioned at the start of `text`, or None for no input."""
        if text is None:
            return None
        fd = anonymous_file(self.owner.root)
        self._extra.append(fd)
        os.write(fd, text.encode())
        os.lseek(fd, 0, os.SEEK_SET)
        return fd

    def outputs(self) -> tuple[Output, Output]:
        """Bounded views of stdout and stderr, readable in full while the workspace is open."""
        return (
            read_fd(self.stdout, f"/proc/self/fd/{self.stdout}"),
            read_fd(self.stderr, f"/proc/self/fd/{self.stderr}"),
        )

    def kept(self, output: Output, stream: str, save_to: Path | None = None) -> Output:
        """`output` as stored on the attempt: with a path only if the log outlives the run.

        With `save_to`, a pooled stream's whole file is saved there first (so a
        recorder can keep the full log after the file is reused).
        """
        if self.slot is None:
            return Output(output.text, output.size, output.truncated, f"{self.workdir}.{stream}")
        pooled = Output(output.text, output.size, output.truncated, None)
        if save_to is None:
            return pooled  # the pooled file is reused: no path to it may leak out
        fd = self.stdout if stream == "stdout" else self.stderr
        try:
            save_fd(fd, save_to)
        except OSError:
            return pooled  # the log tail is still kept; losing the whole log is not fatal
        return Output(output.text, output.size, output.truncated, str(save_to))

    @property
    def kept_dir(self) -> str | None:
        """The work directory's path if it is kept."""
        return None if self.slot is not None else str(self.workdir)


def save_fd(fd: int, target: Path) -> None:
    """Write the whole file behind `fd` to `target`, written beside it and then renamed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    with partial.open("wb") as out:
        size = os.fstat(fd).st_size
        offset = 0
        while offset < size:
            try:
                # Stays in the kernel, and reflinks where the file system can.
                sent = os.copy_file_range(fd, out.fileno(), size - offset, offset)
            except OSError:  # across file systems on some kernels
                sent = os.sendfile(out.fileno(), fd, offset, size - offset)
            if sent == 0:
                break
            offset += sent
    os.replace(partial, target)


def anonymous_file(directory: Path) -> int:
    """A new file with no name in `directory`, still on disk, gone when closed."""
    try:
        return os.open(directory, os.O_RDWR | os.O_TMPFILE | os.O_CLOEXEC, 0o600)
    except (OSError, AttributeError):  # file systems without O_TMPFILE
        path = directory / f".stream-{os.urandom(6).hex()}"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        path.unlink()
        return fd


def _empty(directory: Path) -> bool:
    with os.scandir(directory) as entries:
        return next(entries, None) is None


def _remove(workdir: Path) -> None:
    try:
        workdir.rmdir()
    except FileNotFoundError:
        pass
    except NotADirectoryError:
        # The test replaced its directory with a file or a symlink: remove that, never
        # what a link points to, which may lie outside the run directory.
        workdir.unlink(missing_ok=True)
    except OSError:
        _make_removable(workdir)
        shutil.rmtree(workdir, ignore_errors=True)


def _make_removable(workdir: Path) -> None:
    # A test may leave read-only directories behind; rmtree needs write access.
    for directory, dirnames, _files in os.walk(workdir):
        for name in dirnames:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                os.chmod(path, 0o700)
    if workdir.is_dir():
        workdir.chmod(0o700)
