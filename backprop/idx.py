"""A strict reader for the IDX format, in which MNIST is distributed.

An IDX file is a header and a payload. The header holds four bytes, ``0x00 0x00``, a type
code and the number of dimensions :math:`d`, then :math:`d` big-endian 32-bit sizes. The
payload is the array's values, big-endian, in row-major order, and nothing else:

=======  ==================
code     values
=======  ==================
``08``   unsigned byte
``09``   signed byte
``0B``   16-bit integer
``0C``   32-bit integer
``0D``   32-bit float
``0E``   64-bit float
=======  ==================

:func:`read_idx` checks every one of these facts before it builds an array, and raises
:class:`IDXFormatError`, and nothing else, for a file that breaks one.
"""

from __future__ import annotations

import gzip
import io
import math
import stat
import zlib
from os import PathLike
from pathlib import Path

import numpy as np

_TYPE_CODES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXFormatError(ValueError):
    """A file is not a well-formed IDX file (or gzipped IDX file); the message says why."""


def read_idx_bytes(path: str | PathLike[str], max_bytes: int | None = None) -> bytes:
    """The IDX bytes of a file, decompressed if it is gzipped (whatever its name).

    Only a regular file is read (a device, a pipe or a directory is refused before it is
    opened, so nothing can block or stream without end), and with ``max_bytes`` neither the
    file nor its decompressed contents may exceed that size: decompression stops as soon as
    it passes it, so a small file that would inflate to gigabytes costs nothing.

    Raises
    ------
    IDXFormatError
        If the file is not a regular file or cannot be read, is larger than ``max_bytes``, or
        its gzip stream is corrupt, truncated or inflates past ``max_bytes``.
    """
    path = Path(path)
    try:
        status = path.stat()
    except OSError as error:
        raise IDXFormatError(f"{path}: cannot be read ({error})") from None
    if not stat.S_ISREG(status.st_mode):
        raise IDXFormatError(f"{path}: not a regular file, so not a data file")
    # gzip stores incompressible data with a few bytes per block of overhead: 1% is ample.
    if max_bytes is not None and status.st_size > max_bytes + max_bytes // 100 + 1024:
        raise IDXFormatError(
            f"{path}: {status.st_size} bytes, more than a file of {max_bytes} can take"
        )
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise IDXFormatError(f"{path}: cannot be read ({error})") from None
    if raw[:2] != _GZIP_MAGIC:
        return raw
    limit = -1 if max_bytes is None else max_bytes + 1
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            data = stream.read(limit)
    except (OSError, EOFError, zlib.error) as error:
        raise IDXFormatError(f"{path}: corrupt or truncated gzip data ({error})") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise IDXFormatError(
            f"{path}: its gzip stream inflates past the {max_bytes} bytes this file can have"
        )
    return data


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes into an array of the header's shape, in native byte order.

    The payload's length is compared with the header's sizes before anything is allocated,
    so a header that declares more data than the file holds costs nothing.

    Parameters
    ----------
    data : bytes
        A whole IDX file, decompressed.
    source : str
        Names the file in error messages.

    Returns
    -------
    numpy.ndarray
        Read-only when the type is bytes (it then shares ``data``'s memory).

    Raises
    ------
    IDXFormatError
        Naming ``source`` and what is wrong.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise IDXFormatError(f"{source}: IDX data are bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise IDXFormatError(f"{source}: the file is empty")
    if len(data) < 4:
        raise IDXFormatError(f"{source}: {len(data)} bytes is too short for an IDX header")
    if data[0] != 0 or data[1] != 0:
        raise IDXFormatError(
            f"{source}: wrong magic number 0x{data[:4].hex()}: an IDX file starts with two "
            "zero bytes"
        )
    dtype = _TYPE_CODES.get(data[2])
    if dtype is None:
        raise IDXFormatError(f"{source}: unknown IDX data type code 0x{data[2]:02x}")
    ndim = data[3]
    if ndim == 0:
        raise IDXFormatError(f"{source}: the header declares zero dimensions")
    header_length = 4 + 4 * ndim
    if len(data) < header_length:
        raise IDXFormatError(
            f"{source}: truncated header: {ndim} dimensions need {header_length} bytes, "
            f"the file has {len(data)}"
        )
    shape = tuple(int(size) for size in np.frombuffer(data, ">u4", ndim, offset=4))
    declared = math.prod(shape) * dtype.itemsize
    # numpy refuses a shape whose non-zero sizes overflow its index type, even with a zero.
    if math.prod(size for size in shape if size) * dtype.itemsize > np.iinfo(np.intp).max:
        raise IDXFormatError(f"{source}: the header declares shape {shape}, too large for "
                             "any array")
    payload = len(data) - header_length
    if payload < declared:
        raise IDXFormatError(
            f"{source}: truncated: the header declares shape {shape}, {declared} bytes of "
            f"data, but only {payload} follow"
        )
    if payload > declared:
        raise IDXFormatError(
            f"{source}: {payload - declared} bytes of trailing data after the {declared} "
            f"bytes that shape {shape} declares"
        )
    try:
        array = np.frombuffer(data, dtype, offset=header_length).reshape(shape)
    except ValueError as error:  # more dimensions than numpy supports
        raise IDXFormatError(f"{source}: shape {shape} cannot be an array ({error})") from None
    return array if dtype.itemsize == 1 else array.astype(dtype.newbyteorder("="))


def read_idx(path: str | PathLike[str]) -> np.ndarray:
    """Read an IDX file, gzipped or not.

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    numpy.ndarray
        The array the file holds, in the shape its header declares.

    Raises
    ------
    IDXFormatError
        If the file is unreadable, empty, truncated, corrupt or not IDX; the message names it.
    """
    return parse_idx(read_idx_bytes(path), str(path))
