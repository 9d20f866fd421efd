import contextlib
import gzip
import struct
import tracemalloc

import numpy as np
import pytest
from conftest import idx_bytes
from hypothesis import given
from hypothesis import strategies as st

from backprop.idx import IDXFormatError, parse_idx, read_idx


def test_reads_bytes_and_every_type_code(tmp_path):
    images = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "images"
    path.write_bytes(idx_bytes(images))
    np.testing.assert_array_equal(read_idx(path), images)
    for code, dtype in [(0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"),
                        (0x0E, ">f8")]:
        values = np.array([[-3, 2], [1, 7]], dtype=dtype)
        parsed = parse_idx(idx_bytes(values, code))
        np.testing.assert_array_equal(parsed, values)
        assert parsed.dtype.isnative


def test_gzipped_or_not_whatever_the_name(tmp_path):
    labels = np.array([5, 0, 4], dtype=np.uint8)
    (tmp_path / "plain.gz").write_bytes(idx_bytes(labels))
    (tmp_path / "packed").write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(read_idx(tmp_path / "plain.gz"), labels)
    np.testing.assert_array_equal(read_idx(tmp_path / "packed"), labels)


GOOD = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"the file is empty"),
        (b"\x00\x00", r"2 bytes is too short for an IDX header"),
        (b"\x12\x34" + GOOD[2:], r"wrong magic number 0x1234"),
        (GOOD[:2] + b"\x07" + GOOD[3:], r"unknown IDX data type code 0x07"),
        (GOOD[:3] + b"\x00", r"declares zero dimensions"),
        (GOOD[:10], r"truncated header: 2 dimensions need 12 bytes, the file has 10"),
        (GOOD[:-1], r"declares shape \(3, 4\), 12 bytes of data, but only 11 follow"),
        (GOOD + b"\x00", r"1 bytes of trailing data"),
        (GOOD[:4] + struct.pack(">2I", 2**32 - 1, 2**32 - 1) + GOOD[12:],
         r"declares shape \(4294967295, 4294967295\)"),
    ],
)
def test_malformed_files_name_the_file_and_the_fault(tmp_path, data, message):
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(data)
    with pytest.raises(IDXFormatError, match=message) as error:
        read_idx(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    "data",
    [gzip.compress(GOOD)[:-9], gzip.compress(GOOD)[:12], b"\x1f\x8b" + b"\x00" * 30,
     gzip.compress(GOOD)[:20] + b"\xff" * 8 + gzip.compress(GOOD)[28:]],
    ids=["truncated", "header-only", "garbage", "corrupt-deflate"],
)
def test_broken_gzip(tmp_path, data):
    path = tmp_path / "broken.gz"
    path.write_bytes(data)
    with pytest.raises(IDXFormatError, match=r"broken.gz: corrupt or truncated gzip"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(IDXFormatError, match=r"nothing-here: cannot be read"):
        read_idx(tmp_path / "nothing-here")


def parse_or_refuse(data: bytes) -> None:
    with contextlib.suppress(IDXFormatError):
        parse_idx(data)


@given(st.binary(max_size=64))
def test_random_bytes_raise_only_the_documented_error(data):
    parse_or_refuse(data)


@given(st.data())
def test_mutated_files_raise_only_the_documented_error(data):
    mutated = bytearray(GOOD)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(mutated) - 1))
        mutated[position] ^= 1 << data.draw(st.integers(0, 7))
    cut = data.draw(st.integers(0, len(mutated)))
    parse_or_refuse(bytes(mutated[:cut]))


@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4), st.binary(max_size=32),
       st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E]))
def test_huge_declared_sizes_are_refused_without_allocating(shape, payload, code):
    header = bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    try:
        array = parse_idx(header + payload)
    except IDXFormatError:
        return
    assert array.nbytes == len(payload)


@given(st.binary(max_size=200))
def test_random_gzip_streams_raise_only_the_documented_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "file.gz"
    path.write_bytes(b"\x1f\x8b" + data)
    with contextlib.suppress(IDXFormatError):
        read_idx(path)


def test_a_declared_size_larger_than_the_payload_is_never_allocated():
    header = bytes([0, 0, 0x0E, 2]) + struct.pack(">2I", 10_000, 10_000)  # 800 MB of float64
    tracemalloc.start()
    try:
        with pytest.raises(IDXFormatError, match=r"800000000 bytes of data, but only 8"):
            parse_idx(header + bytes(8))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
