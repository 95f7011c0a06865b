"""Pictures sorted into classes: a folder of class folders, a ZIP of them, or named lists of uploaded files.

    >>> data = read_folder("my_pictures")          # my_pictures/cat/*.png, my_pictures/dog/*.jpg, ...
    >>> data.names, data.images.shape              # ('cat', 'dog'), uint8 (n, 64, 64, 3)
    >>> data = read_zip(zip_bytes)                  # the same layout inside a ZIP (one top folder allowed)

Class order is the sorted folder names. Every picture goes through ``images.decode_image`` (header checked
before decoding) and is squashed to 64×64 RGB. Unreadable pictures and pictures over the size cap are
skipped and counted; a set with fewer than 2 classes, an empty class, or more pictures than the cap is
refused with one sentence saying what to change.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from . import images
from .errors import CnnError, ImageError

SIDE = 64
MIN_CLASSES = 2
MAX_CLASSES = 10
MAX_PICTURES = 3000  # all classes together
MAX_PICTURE_BYTES = 10 * 1024 * 1024
MAX_PICTURE_PIXELS = 4096 * 4096
MAX_ZIP_BYTES = 200 * 1024 * 1024
MAX_ZIP_ENTRIES = 5000
_SUFFIXES = tuple("." + e for e in images.EXTENSIONS)


@dataclass(frozen=True)
class ClassData:
    """Pictures and labels ready to train on."""

    names: tuple[str, ...]
    images: np.ndarray  # uint8 (n, 64, 64, 3)
    labels: np.ndarray  # int64 (n,), indices into names
    unreadable: int = 0  # pictures skipped because they could not be decoded
    too_big: int = 0  # pictures skipped because they were over the size cap

    def summary(self) -> str:
        """One line: classes, counts, and what was skipped."""
        counts = ", ".join(f"{n} {int((self.labels == k).sum())}" for k, n in enumerate(self.names))
        text = f"{len(self.labels)} pictures in {len(self.names)} classes ({counts})"
        if self.unreadable or self.too_big:
            text += f"; skipped {self.unreadable} unreadable and {self.too_big} over the size cap"
        return text


def to_square(picture: np.ndarray) -> np.ndarray:
    """Any decoded picture (H, W) or (H, W, 3) as uint8 (64, 64, 3), squashed to the square."""
    if picture.ndim == 2:
        picture = np.repeat(picture[..., None], 3, axis=2)
    im = Image.fromarray(np.ascontiguousarray(picture[..., :3]).astype(np.uint8))
    return np.asarray(im.resize((SIDE, SIDE), Image.BILINEAR), dtype=np.uint8)


def from_files(classes: dict[str, list[bytes]]) -> ClassData:
    """Decode named lists of picture files (the class order is the sorted names)."""
    names = tuple(sorted(classes))
    if len(names) < MIN_CLASSES:
        found = f"only {names[0]!r}" if names else "none"
        raise CnnError(f"Training needs at least {MIN_CLASSES} classes, found {found}; add a folder per class.")
    if len(names) > MAX_CLASSES:
        raise CnnError(f"Found {len(names)} classes; at most {MAX_CLASSES} are allowed.")
    total = sum(len(v) for v in classes.values())
    if total > MAX_PICTURES:
        raise CnnError(f"Found {total:,} pictures; at most {MAX_PICTURES:,} are allowed in one run. Remove some.")
    pictures, labels, unreadable, too_big = [], [], 0, 0
    for k, name in enumerate(names):
        kept = 0
        for data in classes[name]:
            if len(data) > MAX_PICTURE_BYTES:
                too_big += 1
                continue
            try:
                decoded = images.decode_image(data, max_pixels=MAX_PICTURE_PIXELS)
            except ImageError as e:
                if "over the limit" in str(e) or "too large" in str(e) or "bomb" in str(e).lower():
                    too_big += 1
                else:
                    unreadable += 1
                continue
            pictures.append(to_square(decoded))
            labels.append(k)
            kept += 1
        if kept == 0:
            skipped = " (its pictures could not be read or were over the size cap)" if classes[name] else ""
            raise CnnError(f"Class {name!r} has no pictures{skipped}; every class needs at least one.")
    return ClassData(names, np.stack(pictures), np.asarray(labels, dtype=np.int64), unreadable, too_big)


def read_folder(path: str | Path) -> ClassData:
    """A folder with one sub-folder of pictures per class. Files without a picture extension are ignored."""
    root = Path(path)
    if not root.is_dir():
        raise CnnError(f"{root} is not a folder; give a folder with one sub-folder of pictures per class.")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    classes: dict[str, list[bytes]] = {}
    total = 0
    too_big = 0
    for folder in folders:
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _SUFFIXES and not p.name.startswith("."))
        total += len(files)
        if total > MAX_PICTURES:
            raise CnnError(f"{root} holds more than {MAX_PICTURES:,} pictures, the cap for one run. Remove some.")
        blobs = []
        for f in files:
            try:
                blobs.append(images.read_file(f, MAX_PICTURE_BYTES))
            except ImageError as e:
                if "at most" in str(e):
                    too_big += 1
                else:
                    blobs.append(b"")  # counted as unreadable below
        classes[folder.name] = blobs
    data = from_files(classes)
    return ClassData(data.names, data.images, data.labels, data.unreadable, data.too_big + too_big)


def read_zip(data: bytes) -> ClassData:
    """A ZIP of class folders (``cat/1.png``, ...), optionally inside one top folder; read in memory, bounded."""
    zf, infos = _open_zip(data)
    classes: dict[str, list[bytes]] = {}
    too_big = 0
    for folder, info in _class_entries(infos):
        if len(classes.get(folder, [])) + sum(map(len, classes.values())) > MAX_PICTURES:
            raise CnnError(f"The ZIP holds more than {MAX_PICTURES:,} pictures, the cap for one run. Remove some.")
        if info.file_size > MAX_PICTURE_BYTES:
            too_big += 1
            classes.setdefault(folder, [])
            continue
        blob = _read_entry(zf, info)
        if len(blob) > MAX_PICTURE_BYTES:
            too_big += 1
            continue
        classes.setdefault(folder, []).append(blob)
    result = from_files(classes)
    return ClassData(result.names, result.images, result.labels, result.unreadable, result.too_big + too_big)


def _open_zip(data: bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The open archive and its file entries, within the size and entry-count caps."""
    if len(data) > MAX_ZIP_BYTES:
        raise CnnError(f"The ZIP is {len(data) / 2**20:.0f} MB; at most {MAX_ZIP_BYTES // 2**20} MB is allowed.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise CnnError("The file is not a readable ZIP; make one with a folder per class inside.") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise CnnError(f"The ZIP has {len(infos):,} entries; at most {MAX_ZIP_ENTRIES:,} are allowed.")
    return zf, infos


def _class_entries(infos: list[zipfile.ZipInfo]) -> list[tuple[str, zipfile.ZipInfo]]:
    """(class folder, entry) for each picture directly inside a class folder; hidden files and one top folder skipped."""
    entries = []
    for info in infos:
        parts = [p for p in info.filename.replace("\\", "/").split("/") if p]
        if any(p.startswith(".") or p == "__MACOSX" for p in parts) or not info.filename.lower().endswith(_SUFFIXES):
            continue
        entries.append((parts, info))
    # One common top folder ("pictures/cat/1.png") is stripped.
    tops = {tuple(p[:1]) for p, _ in entries if len(p) >= 3}
    strip = 1 if entries and len(tops) == 1 and all(len(p) >= 3 for p, _ in entries) else 0
    # A picture outside a class folder is passed over.
    return [(parts[strip], info) for parts, info in entries if len(parts) - strip == 2]


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """An entry's bytes, at most one past the cap; empty (counted as unreadable) when encrypted or corrupt."""
    try:
        with zf.open(info) as f:
            return f.read(MAX_PICTURE_BYTES + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return b""
