"""Runtime files are private to the server's account: the database, uploads, report PDFs,
import previews and the secret key hold personal data and credentials."""
from __future__ import annotations

import os
from collections.abc import Iterable

# New files 0600, new directories 0700, whatever the shell or service manager set.
PRIVATE_UMASK = 0o077


def _tighten(path: str, mode: int) -> None:
    try:
        st = os.lstat(path)
        if st.st_uid == os.getuid() and not os.path.islink(path) and (st.st_mode & 0o777) & ~mode:
            os.chmod(path, (st.st_mode & 0o777) & mode)
    except OSError:
        pass


def make_private(directories: Iterable[str], files: Iterable[str] = ()) -> None:
    """Set the process umask, then tighten what an older install already created: the
    given directories and everything below them lose every group and other permission
    (directories at most 0700, files at most 0600), and so do the given files.
    Paths that do not exist or belong to another account are left alone."""
    os.umask(PRIVATE_UMASK)
    for top in directories:
        if not top or not os.path.isdir(top):
            continue
        _tighten(top, 0o700)
        for root, dirs, names in os.walk(top):
            for name in dirs:
                _tighten(os.path.join(root, name), 0o700)
            for name in names:
                _tighten(os.path.join(root, name), 0o600)
    for path in files:
        _tighten(path, 0o600)
