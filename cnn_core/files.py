"""The one bounded reader: every file a command or page opens by name goes through ``read_bounded``.

Only regular files are read. The file is opened without blocking and checked on the open descriptor, so
a FIFO (which would wait for a writer forever), a device such as /dev/zero (which never ends), a folder,
a socket, a symbolic-link loop and an unreadable file are each refused in one sentence that says what the
thing is. The size is checked before a byte is read, and no more than ``max_bytes`` + 1 bytes are ever
read, even from a file that grows meanwhile or claims a size of 0 (as /proc files do).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import CnnError


def read_bounded(path: str | Path, max_bytes: int, wanted: str = "a file", error: type[CnnError] = CnnError) -> bytes:
    """A regular file's bytes, at most ``max_bytes`` of them, refusing anything else before reading.

    Args:
        path: the file's path as the user gave it.
        max_bytes: the most bytes accepted.
        wanted: what the caller expects, for the message ("an image file", "a spec JSON file").
        error: the CnnError subclass raised (ImageError, SpecError, ModelError).

    Returns:
        The file's bytes.

    Raises:
        ``error`` with the path as its field: a missing, unreadable, looping, non-regular or oversized file.
    """
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise error(open_problem(path, e, wanted), name) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"is {kind(info.st_mode)}, not a regular file; give {wanted}", name)
        if info.st_size > max_bytes:
            raise error(too_big(info.st_size, max_bytes), name)
        chunks, got = [], 0
        while got <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > max_bytes:
            raise error(too_big(got, max_bytes, "at least "), name)
        return b"".join(chunks)
    except OSError as e:
        raise error(f"could not be read ({e.strerror or e})", name) from None
    finally:
        os.close(fd)


def open_problem(path: str | Path, e: OSError, wanted: str = "a file") -> str:
    """What stopped ``path`` from opening, as the rest of a sentence that starts with the path."""
    if e.errno == errno.ELOOP:
        return "is a symbolic link loop (following it leads back to itself), so it could not be read"
    if e.errno == errno.ENOENT and os.path.islink(path):
        return f"is a broken symbolic link (to {os.readlink(path)!r}, which does not exist)"
    if e.errno == errno.ENOENT:
        return "does not exist"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "is not readable (permission denied)"
    if e.errno == errno.ENXIO:  # a socket, or a FIFO or device with nothing behind it
        return f"is a socket or a device with nothing behind it, not a regular file; give {wanted}"
    if e.errno == errno.ENAMETOOLONG:
        return "has a name too long for this system"
    return f"could not be read ({e.strerror or e})"


def entry_problem(path: Path) -> str | None:
    """Why a folder entry would be skipped (a broken link, a loop, not a regular file), or None to read it."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        return open_problem(path, e)
    return None if stat.S_ISREG(mode) else f"is {kind(mode)}"


def check_out_folder(path: str | Path) -> None:
    """Refuse an output path that exists and is not a folder (a FIFO, a device, a file), before any work."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return  # made when the first result is written
    except OSError as e:
        raise CnnError(f"{path} {open_problem(path, e, 'a folder')}", "--out") from None
    if not stat.S_ISDIR(mode):
        raise CnnError(f"{path} is {kind(mode)}, not a folder; give a folder (or a new name) for the output", "--out")


def kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words ("a folder", "a FIFO (named pipe)", ...)."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def too_big(nbytes: int, limit: int, prefix: str = "") -> str:
    return f"is {prefix}{size_text(nbytes)}; at most {size_text(limit)} is accepted"


def size_text(nbytes: int) -> str:
    """A size in the upload cap's one unit, MB of 10**6 bytes ("50 MB", "50.4 MB"), the unit Streamlit's
    uploader states and checks; under 1 MB in bytes ("65,536 bytes")."""
    if nbytes < 10**6:
        return f"{nbytes:,} bytes"
    mb = nbytes / 10**6
    return f"{mb:,.0f} MB" if mb == int(mb) or mb >= 100 else f"{mb:,.1f} MB"
