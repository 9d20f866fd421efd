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
import math
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


def read_idx_bytes(path: str | PathLike[str]) -> bytes:
    """The IDX bytes of a file, decompressed if it is gzipped (whatever its name).

    Raises
    ------
    IDXFormatError
        If the file cannot be read, or its gzip stream is corrupt or truncated.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise IDXFormatError(f"{path}: cannot be read ({error})") from None
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise IDXFormatError(f"{path}: corrupt or truncated gzip data ({error})") from None


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
    array = np.frombuffer(data, dtype, offset=header_length).reshape(shape)
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
