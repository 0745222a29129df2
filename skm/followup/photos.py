"""Follow-up evidence photos: checked by content, re-encoded without metadata, thumbnailed.

Plain functions, no Flask. They flush, never commit; the caller commits once.
Refusals raise DomainError with a message in Bahasa Indonesia.
"""
from __future__ import annotations

import io
import os
import secrets
from dataclasses import dataclass
from typing import Optional

from sqlalchemy.orm import Session

from skm.core.errors import DomainError
from skm.followup.common import (
    DEFAULT_MAX_PHOTO_BYTES,
    MAX_CAPTION,
    MAX_PHOTO_EDGE,
    MAX_PHOTO_PIXELS,
    PHOTO_FORMATS,
    PHOTO_NAME,
    THUMB_EDGE,
    _clean,
    _log,
)
from skm.models import (
    FollowUpAction,
    FollowUpPhoto,
    User,
)

# --------------------------------------------------------------------------- photos


def check_upload_name(filename: Optional[str]) -> str:
    """The client's file name is never used as a path, but a name that tries to
    climb directories marks a forged request: refuse it."""
    name = filename or ""
    if (not name.strip() or len(name) > 255 or "/" in name or "\\" in name or ".." in name
            or any(ord(ch) < 32 for ch in name) or name.startswith(".")):
        raise DomainError("Nama berkas tidak valid.")
    return name


@dataclass
class EncodedImage:
    data: bytes
    thumb: bytes
    ext: str
    mime: str
    width: int
    height: int


def encode_photo(data: bytes, max_bytes: int = DEFAULT_MAX_PHOTO_BYTES) -> EncodedImage:
    """Check by content (not by name) that this is a JPEG, PNG or WebP image, then
    re-encode it (JPEG, or PNG when it has transparency) without its metadata,
    scaled to at most MAX_PHOTO_EDGE, plus a thumbnail."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > max_bytes:
        raise DomainError(f"Foto terlalu besar (maksimal {max_bytes // (1024 * 1024)} MB).")
    if not data:
        raise DomainError("Berkas foto kosong.")
    try:
        probe = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        # The header claims a picture far above Pillow's own bound (2 x 89 Mpx).
        raise DomainError("Ukuran gambar (piksel) terlalu besar.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise DomainError("Berkas bukan gambar JPEG, PNG atau WebP.") from None
    if probe.format not in PHOTO_FORMATS:
        raise DomainError("Format gambar harus JPEG, PNG atau WebP.")
    width, height = probe.size
    if width < 1 or height < 1 or width * height > MAX_PHOTO_PIXELS:
        raise DomainError("Ukuran gambar (piksel) terlalu besar.")
    try:
        probe.verify()
        image: Image.Image = Image.open(io.BytesIO(data))
        image.load()
        image = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001  Pillow raises many kinds on damaged files
        raise DomainError("Berkas gambar rusak atau tidak lengkap.") from None
    alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if alpha else "RGB")
    image.thumbnail((MAX_PHOTO_EDGE, MAX_PHOTO_EDGE))
    thumb = image.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE))

    def save(img) -> bytes:
        out = io.BytesIO()
        if alpha:
            img.save(out, "PNG", optimize=True)
        else:
            img.save(out, "JPEG", quality=85, optimize=True)
        return out.getvalue()

    return EncodedImage(save(image), save(thumb), "png" if alpha else "jpg",
                        "image/png" if alpha else "image/jpeg", image.width, image.height)


def photo_dir(upload_root: str, unit_id: int) -> str:
    return os.path.join(upload_root, "rtl", str(int(unit_id)))


def photo_path(upload_root: str, photo: FollowUpPhoto, thumb: bool = False) -> str:
    """Absolute path of a stored photo; refuses any name that is not one we generated."""
    name = photo.thumb_name if thumb else photo.file_name
    if not PHOTO_NAME.match(name):
        raise DomainError("Nama berkas tidak valid.")
    folder = os.path.realpath(photo_dir(upload_root, photo.unit_id))
    path = os.path.realpath(os.path.join(folder, name))
    if os.path.dirname(path) != folder:
        raise DomainError("Nama berkas tidak valid.")
    return path


def _write_new(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def add_photo(session: Session, action: FollowUpAction, user: Optional[User], data: bytes,
              filename: Optional[str], caption: str, upload_root: str,
              max_bytes: int = DEFAULT_MAX_PHOTO_BYTES) -> FollowUpPhoto:
    """Store a documentation photo under <upload_root>/rtl/<unit_id>/ with a random name."""
    plan = action.priority.plan
    if not plan.final:
        raise DomainError("Foto dokumentasi dapat diunggah setelah RTL ditandai final.")
    check_upload_name(filename)
    caption = _clean(caption, "Keterangan foto", MAX_CAPTION)
    encoded = encode_photo(data, max_bytes)
    folder = photo_dir(upload_root, plan.unit_id)
    os.makedirs(folder, mode=0o750, exist_ok=True)
    token = secrets.token_hex(16)
    photo = FollowUpPhoto(
        unit_id=plan.unit_id, file_name=f"{token}.{encoded.ext}", thumb_name=f"{token}_t.{encoded.ext}",
        mime_type=encoded.mime, width=encoded.width, height=encoded.height, size_bytes=len(encoded.data),
        caption=caption, uploaded_by_id=user.id if user else None,
    )
    _write_new(photo_path(upload_root, photo), encoded.data)
    _write_new(photo_path(upload_root, photo, thumb=True), encoded.thumb)
    action.photos.append(photo)
    try:
        session.flush()
    except Exception:
        _remove_photo_files(upload_root, photo)
        raise
    _log(session, plan, user, "photo", None, caption or photo.file_name, action)
    session.flush()
    return photo


def _remove_photo_files(upload_root: str, photo: FollowUpPhoto) -> None:
    for thumb in (False, True):
        try:
            os.remove(photo_path(upload_root, photo, thumb))
        except (OSError, DomainError):
            pass


def delete_photo(session: Session, photo: FollowUpPhoto, user: Optional[User], upload_root: str) -> None:
    action = photo.action
    _log(session, action.priority.plan, user, "photo", photo.caption or photo.file_name, None, action)
    action.photos.remove(photo)
    session.flush()
    _remove_photo_files(upload_root, photo)
