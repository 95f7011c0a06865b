"""Pictures for the Units scan besides a folder: an uploaded ZIP (capped), the bundled samples, generated shapes.

Each gives ``units.Item`` records holding the picture's bytes, so the scan's actors never need a file system.
"""

from __future__ import annotations

import io
import zipfile

from .errors import CnnError
from .units import Item

MAX_ZIP_PICTURES = 1000
MAX_ZIP_BYTES = 200 * 2**20  # all pictures together, unpacked, as declared and as read


def zip_items(data: bytes, max_pictures: int = MAX_ZIP_PICTURES, max_bytes: int = MAX_ZIP_BYTES):
    """The pictures in a ZIP file, by extension, sorted by name; at most ``max_pictures`` and ``max_bytes``.

    Returns:
        (items, skipped): entries over a cap are skipped with the reason, never read.

    Raises:
        CnnError: the file is not a readable ZIP.
    """
    from .images import EXTENSIONS, MAX_FILE_BYTES

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = sorted(zf.infolist(), key=lambda i: i.filename)
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise CnnError(f"is not a readable ZIP file ({e})", "pictures") from None
    items: list[Item] = []
    skipped: list[tuple[str, str]] = []
    total = 0
    for info in infos:
        name = info.filename
        if info.is_dir() or name.rsplit(".", 1)[-1].lower() not in EXTENSIONS or "." not in name:
            continue
        if len(items) >= max_pictures:
            skipped.append((name, f"over the limit of {max_pictures:,} pictures per ZIP"))
            continue
        if info.file_size > MAX_FILE_BYTES or total + info.file_size > max_bytes:
            skipped.append((name, f"over the limit of {max_bytes // 2**20} MB of pictures per ZIP"))
            continue
        try:
            with zf.open(info) as f:
                body = f.read(info.file_size + 1)  # never more than declared (plus one byte, to notice a lie)
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as e:  # encrypted, corrupt, truncated
            skipped.append((name, f"could not be unpacked ({type(e).__name__})"))
            continue
        if len(body) > info.file_size:
            skipped.append((name, "unpacks to more than its header declares"))
            continue
        total += len(body)
        items.append(Item(name, data=body))
    return items, skipped


def sample_items() -> list[Item]:
    """The bundled sample photos, named by their file."""
    from .images import MAX_FILE_BYTES, read_file
    from .samples import SAMPLES, sample_path

    return [Item(sample_path(s).name, data=read_file(sample_path(s), MAX_FILE_BYTES)) for s in SAMPLES]


def shape_items(per_class: int = 100, seed: int = 0) -> list[Item]:
    """Generated 64×64 shapes (``shapes_data``), ``per_class`` of each, as PNG, named "star/0007.png"."""
    import numpy as np

    from . import shapes_data
    from .render import png_bytes

    pictures, labels = shapes_data.make_dataset(per_class * len(shapes_data.CLASSES), seed=seed)
    counts = dict.fromkeys(shapes_data.CLASSES, 0)
    items = []
    for p, y in zip(pictures, labels):
        cls = shapes_data.CLASSES[int(y)]
        items.append(Item(f"{cls}/{counts[cls]:04d}.png", data=png_bytes(np.asarray(p, np.uint8))))
        counts[cls] += 1
    items.sort(key=lambda it: it.name)
    return items
