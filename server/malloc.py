"""glibc's allocator, set for a worker that decodes big short-lived blobs (a stored pass, export chunks).

glibc serves a block of at least the mmap threshold (128 KB at start) with its own mapping, which goes
back to the system when freed; but after such a block is freed it raises the threshold to that size
(up to 32 MB), so later big blobs come from the heap, which hardly shrinks.  A fixed threshold keeps
them mapped.  Measured on 200,000 shops (PostgreSQL, bench/exports.py --cron), a serving process's
peak after the three exports and reading the stored pass: 165 MB by default, 150 MB with 256 KB.
"""
import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # <malloc.h>
THRESHOLD = 256 * 1024


def fix_mmap_threshold(threshold=THRESHOLD):
    """Fix the mmap threshold (gunicorn's post_fork); False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        return bool(libc.mallopt(M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError, TypeError):  # musl, macOS: no mallopt, nothing to set
        return False
