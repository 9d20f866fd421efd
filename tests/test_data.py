import dataclasses
import fcntl
import functools
import gzip
import hashlib
import http.server
import json
import os
import re
import select
import struct
import subprocess
import sys
import termios
import threading
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests
from conftest import idx_bytes

from backprop import data
from backprop.idx import IDXFormatError, read_idx_bytes

NAMES = [file.name for file in data.MNIST_FILES]


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def fake_arrays(seed=0, train=6, test=3):
    rng = np.random.default_rng(seed)
    return [
        rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, train, dtype=np.uint8),
        rng.integers(0, 256, (test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, test, dtype=np.uint8),
    ]


@pytest.fixture
def fake_mnist(monkeypatch):
    """Small IDX files under the canonical names, made the canonical ones for the test.

    Returns the IDX bytes of each file by name; the registry of digests and the parse cache
    are set back afterwards.
    """
    payloads = {name: idx_bytes(array) for name, array in zip(NAMES, fake_arrays(),
                                                              strict=True)}
    monkeypatch.setattr(data, "MNIST_FILES", tuple(
        data.MNISTFile(name, len(raw), sha256(raw), sha256(gzip.compress(raw, mtime=0)))
        for name, raw in payloads.items()
    ))
    monkeypatch.delenv(data.ENVIRONMENT_VARIABLE, raising=False)
    data._read_verified_cached.cache_clear()
    yield payloads
    data._read_verified_cached.cache_clear()


def write(directory: Path, payloads: dict[str, bytes], compress=True) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, raw in payloads.items():
        if compress:
            (directory / f"{name}.gz").write_bytes(gzip.compress(raw, mtime=0))
        else:
            (directory / name).write_bytes(raw)


def test_loads_the_four_arrays(tmp_path, fake_mnist):
    write(tmp_path, fake_mnist)
    mnist = data.load_mnist(tmp_path, download=False)
    expected = fake_arrays()
    assert [a.shape for a in mnist] == [(6, 784), (6,), (3, 784), (3,)]
    for array, wanted in zip(mnist, expected, strict=True):
        np.testing.assert_array_equal(array, wanted.reshape(len(wanted), -1).squeeze())
        assert array.dtype == np.uint8
        assert not array.flags.writeable


def test_plain_and_gzipped_files_mix(tmp_path, fake_mnist):
    names = list(fake_mnist)
    write(tmp_path, {n: fake_mnist[n] for n in names[:2]}, compress=False)
    write(tmp_path, {n: fake_mnist[n] for n in names[2:]})
    assert len(data.load_mnist(tmp_path, download=False).test_labels) == 3


def test_where_the_files_are_looked_for(tmp_path, monkeypatch, fake_mnist):
    explicit, from_environment = tmp_path / "explicit", tmp_path / "environment"
    monkeypatch.setenv(data.ENVIRONMENT_VARIABLE, str(from_environment))
    assert data.data_directory(explicit) == explicit
    assert data.data_directory() == from_environment
    monkeypatch.delenv(data.ENVIRONMENT_VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.data_directory() == tmp_path / "cache" / "backprop" / "mnist"
    monkeypatch.setenv(data.ENVIRONMENT_VARIABLE, str(from_environment))
    write(from_environment, fake_mnist)
    assert len(data.load_mnist(download=False).train_images) == 6


def test_a_recompressed_copy_is_accepted(tmp_path, fake_mnist):
    for name, raw in fake_mnist.items():
        recompressed = gzip.compress(raw, compresslevel=1, mtime=12345)
        assert sha256(recompressed) != sha256(gzip.compress(raw, mtime=0))
        (tmp_path / f"{name}.gz").write_bytes(recompressed)
    data.load_mnist(tmp_path, download=False)


def test_different_data_is_refused_with_both_digests(tmp_path, fake_mnist):
    write(tmp_path, fake_mnist)
    other = idx_bytes(fake_arrays(seed=1)[1])
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(other))
    expected = data.MNIST_FILES[1].idx_sha256
    with pytest.raises(data.ChecksumError,
                       match=rf"train-labels-idx1-ubyte.gz holds other data.*{sha256(other)}, "
                             rf"expected {expected}"):
        data.load_mnist(tmp_path, download=False)


def test_each_file_is_parsed_once_per_process(tmp_path, fake_mnist, monkeypatch):
    write(tmp_path, fake_mnist)
    parsed, parse = [], data.parse_idx
    monkeypatch.setattr(data, "parse_idx",
                        lambda raw, source: parsed.append(source) or parse(raw, source))
    first = data.load_mnist(tmp_path, download=False)
    second = data.load_mnist(tmp_path, download=False)
    assert len(parsed) == 4
    assert all(a is b or np.shares_memory(a, b) for a, b in zip(first, second, strict=True))
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    data.load_mnist(tmp_path, download=False)
    assert len(parsed) == 5


def test_missing_files_without_download_say_where_and_what(tmp_path, fake_mnist):
    write(tmp_path, {NAMES[0]: fake_mnist[NAMES[0]]})
    with pytest.raises(data.MNISTNotFoundError) as error:
        data.load_mnist(tmp_path, download=False)
    message = str(error.value)
    assert str(tmp_path) in message
    assert all(name in message for name in NAMES[1:])
    assert NAMES[0] not in message
    assert "BACKPROP_DATA_DIR" in message


class FakeDownloader:
    """Serves URLs from a dict: bytes are written to pooch's file, exceptions are raised."""

    def __init__(self, answers):
        self.answers = answers
        self.asked = []

    def __call__(self, url, output_file, pooch_object):
        self.asked.append(url)
        answer = self.answers.get(url, requests.ConnectionError(f"no route to {url}"))
        if isinstance(answer, tuple):  # (bytes written before the connection drops, error)
            Path(output_file).write_bytes(answer[0])
            raise answer[1]
        if isinstance(answer, Exception):
            raise answer
        Path(output_file).write_bytes(answer)


@pytest.fixture
def mirrors(monkeypatch):
    monkeypatch.setattr(data, "MIRRORS", ("https://a.invalid/", "https://b.invalid/"))

    def serve(answers):
        fake = FakeDownloader(answers)
        monkeypatch.setattr(data, "downloader", lambda name: fake)
        return fake

    return serve


def test_missing_files_are_downloaded_from_the_next_mirror(tmp_path, fake_mnist, mirrors):
    cache = tmp_path / "cache"
    fake = mirrors({f"https://b.invalid/{name}.gz": gzip.compress(raw, mtime=0)
                    for name, raw in fake_mnist.items()})
    mnist = data.load_mnist(cache)
    assert len(mnist.train_labels) == 6
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{n}.gz" for n in NAMES)
    first = f"{NAMES[0]}.gz"
    assert fake.asked[:2] == [f"https://a.invalid/{first}", f"https://b.invalid/{first}"]
    data.load_mnist(cache)
    assert len(fake.asked) == 8


def test_a_failed_or_corrupt_download_leaves_nothing(tmp_path, fake_mnist, mirrors):
    cache = tmp_path / "cache"
    good = {name: gzip.compress(raw, mtime=0) for name, raw in fake_mnist.items()}
    answers = {f"https://a.invalid/{name}.gz": (gz[: len(gz) // 2],
                                                 requests.ConnectionError("dropped"))
               for name, gz in good.items()}
    # The second mirror serves every file with its last byte flipped.
    answers |= {f"https://b.invalid/{name}.gz": gz[:-1] + bytes([gz[-1] ^ 0xFF])
                for name, gz in good.items()}
    mirrors(answers)
    with pytest.raises(data.MNISTNotFoundError) as error:
        data.load_mnist(cache)
    message = str(error.value)
    assert "a.invalid could not be reached; b.invalid served a file with the wrong " \
           "checksum" in " ".join(message.splitlines())
    # Nothing was there before, and nothing is left: not even the directory.
    assert not cache.exists()


def test_offline_the_message_says_why_and_what_to_do_in_five_lines(tmp_path, mirrors):
    fake = mirrors({})  # every mirror refuses the connection
    with pytest.raises(data.MNISTNotFoundError) as error:
        data.load_mnist(tmp_path / "cache")
    lines = str(error.value).splitlines()
    assert len(lines) <= 5
    assert all(len(line) <= 80 for line in lines[1:])
    said = " ".join(lines)
    assert "no mirror could be reached (no network?); tried a.invalid, b.invalid." in said
    assert all(name in said for name in NAMES)
    assert "BACKPROP_DATA_DIR" in said
    # With no mirror answering, the other three files are not tried.
    assert fake.asked == [f"https://a.invalid/{NAMES[0]}.gz", f"https://b.invalid/{NAMES[0]}.gz"]


def test_a_mirror_that_answers_with_an_error_is_named_with_its_status(tmp_path, mirrors):
    response = requests.Response()
    response.status_code = 404
    mirrors({f"https://a.invalid/{name}.gz": requests.HTTPError(response=response)
             for name in NAMES})
    with pytest.raises(data.MNISTNotFoundError) as error:
        data.load_mnist(tmp_path / "cache")
    said = " ".join(str(error.value).splitlines())
    assert "a.invalid answered HTTP 404; b.invalid could not be reached." in said


def test_interrupted_download_leaves_nothing(tmp_path, fake_mnist, mirrors):
    cache = tmp_path / "cache"
    name = NAMES[0]
    mirrors({f"https://a.invalid/{name}.gz": (b"\x1f\x8b partial", KeyboardInterrupt())})
    with pytest.raises(KeyboardInterrupt):
        data.load_mnist(cache)
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize(
    ("index", "array", "message"),
    [
        (1, np.array([1, 2, 3, 4, 5, 10], np.uint8), r"label 10 at position 5 is not a digit"),
        (3, np.array([1, 2], np.uint8), r"2 labels for 3 images"),
        (0, np.zeros((6, 28, 27), np.uint8), r"expected 28x28 images.*\(6, 28, 27\)"),
        (0, np.zeros((6, 784), np.uint8), r"expected 28x28 images.*\(6, 784\)"),
        (1, np.zeros((6, 1), np.uint8), r"expected a 1-D array.*\(6, 1\)"),
        (1, np.zeros(6, ">i4"), r"expected a 1-D array of unsigned bytes.*int32"),
    ],
)
def test_content_checks_name_the_file(tmp_path, monkeypatch, fake_mnist, index, array,
                                      message):
    code = 0x08 if array.dtype == np.uint8 else 0x0C
    fake_mnist[NAMES[index]] = idx_bytes(array, code)
    monkeypatch.setattr(data, "MNIST_FILES", tuple(
        data.MNISTFile(name, len(raw), sha256(raw), "") for name, raw in fake_mnist.items()
    ))
    write(tmp_path, fake_mnist)
    with pytest.raises(IDXFormatError, match=message) as error:
        data.load_mnist(tmp_path, download=False)
    assert NAMES[index] in str(error.value)


def test_assignment_split_of_fake_data(tmp_path, fake_mnist):
    write(tmp_path, fake_mnist)
    split = data.load_assignment_split(tmp_path, train_size=4, download=False)
    assert split.train_images.shape == (4, 784)
    assert split.val_images.shape == (3, 784)
    assert split.train_labels.dtype == split.val_labels.dtype == np.int64
    with pytest.raises(ValueError, match=r"train_size must be an integer from 1 to 60000"):
        data.load_assignment_split(tmp_path, train_size=0)


real_mnist = pytest.mark.skipif(
    not os.environ.get(data.ENVIRONMENT_VARIABLE),
    reason="set BACKPROP_DATA_DIR to a directory with the four MNIST files to run this",
)


@real_mnist
def test_real_mnist():
    mnist = data.load_mnist(download=False)
    assert [a.shape for a in mnist] == [(60000, 784), (60000,), (10000, 784), (10000,)]
    assert mnist.train_labels[0] == 5
    # The published class counts of the training and test sets.
    assert np.bincount(mnist.train_labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421,
                                                        5918, 6265, 5851, 5949]
    assert np.bincount(mnist.test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958,
                                                       1028, 974, 1009]


@real_mnist
def test_real_assignment_split_statistics():
    from backprop.preprocessing import pixel_statistics

    split = data.load_assignment_split(download=False)
    assert split.train_images.shape == (20000, 784)
    assert split.val_images.shape == (10000, 784)
    mean, std = pixel_statistics(split.train_images)
    assert round(mean, 2) == 33.55
    assert round(std, 2) == 78.88


def test_a_name_taken_by_a_device_or_a_pipe_is_refused_at_once(tmp_path, fake_mnist):
    write(tmp_path, fake_mnist)
    target = tmp_path / f"{NAMES[0]}.gz"
    target.unlink()
    target.symlink_to("/dev/zero")
    with pytest.raises(IDXFormatError, match=r"not a regular file"):
        data.load_mnist(tmp_path, download=True)
    target.unlink()
    os.mkfifo(target)
    with pytest.raises(IDXFormatError, match=r"not a regular file"):
        data.load_mnist(tmp_path, download=True)


def test_downloads_wait_a_bounded_time():
    connect, read = data.DOWNLOAD_TIMEOUT
    assert connect <= 10
    assert read <= 30
    assert data.downloader().kwargs["timeout"] == data.DOWNLOAD_TIMEOUT


def test_a_gzip_bomb_is_refused_without_inflating_it(tmp_path):
    bomb = tmp_path / "train-labels-idx1-ubyte.gz"
    bomb.write_bytes(gzip.compress(bytes(50_000_000), mtime=0))
    tracemalloc.start()
    try:
        with pytest.raises(IDXFormatError, match=r"inflates past the 60008 bytes"):
            read_idx_bytes(bomb, max_bytes=data.MNIST_FILES[1].size)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


def test_a_file_larger_than_its_canonical_size_is_not_read(tmp_path, fake_mnist):
    write(tmp_path, fake_mnist, compress=False)
    (tmp_path / NAMES[1]).write_bytes(bytes(10_000))
    with pytest.raises(IDXFormatError, match=r"10000 bytes, more than a file of \d+ can take"):
        data.load_mnist(tmp_path, download=False)


def test_threads_loading_at_once_parse_each_file_once(tmp_path, fake_mnist, monkeypatch):
    write(tmp_path, fake_mnist)
    reads = []
    real = data.read_idx_bytes

    def counting(path, **kwargs):
        reads.append(path)
        return real(path, **kwargs)

    monkeypatch.setattr(data, "read_idx_bytes", counting)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: data.load_mnist(tmp_path, download=False), range(8)))
    assert len(reads) == len(NAMES)


def test_a_file_rewritten_with_its_size_and_time_kept_is_read_again(tmp_path, fake_mnist):
    write(tmp_path, fake_mnist, compress=False)
    data.load_mnist(tmp_path, download=False)
    path = tmp_path / NAMES[1]
    status = path.stat()
    other = bytearray(path.read_bytes())
    other[-1] = (other[-1] + 1) % 10
    path.write_bytes(bytes(other))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert path.stat().st_size == status.st_size
    # The new contents are read (and refused, since they are not the canonical file).
    with pytest.raises(data.ChecksumError):
        data.load_mnist(tmp_path, download=False)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


DOWNLOAD_ON_A_TERMINAL = """
import json, sys
from backprop import data
registry, mirror, folder = json.loads(sys.argv[1])
data.MNIST_FILES = tuple(data.MNISTFile(*file) for file in registry)
data.MIRRORS = (mirror,)
print(json.dumps([path.name for path in data.locate_files(data.Path(folder))]))
"""


def test_a_download_on_a_terminal_shows_a_progress_bar_per_file(tmp_path, fake_mnist):
    write(tmp_path / "mirror", fake_mnist)
    handler = functools.partial(QuietHandler, directory=str(tmp_path / "mirror"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    mirror = f"http://127.0.0.1:{server.server_address[1]}/"
    registry = [dataclasses.astuple(file) for file in data.MNIST_FILES]
    # A terminal: the download's standard error is a pseudo-terminal, read from its other end.
    main, side = os.openpty()
    # Of a terminal's size: tqdm draws nothing on one of 0 rows, as a new one is.
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        done = subprocess.run(
            [sys.executable, "-c", DOWNLOAD_ON_A_TERMINAL,
             json.dumps([registry, mirror, str(tmp_path / "cache")])],
            stderr=side, stdout=subprocess.PIPE, text=True, timeout=120, check=True)
        drawn = []
        while select.select([main], [], [], 1)[0]:
            drawn.append(os.read(main, 65536))
    finally:
        os.close(side)
        os.close(main)
        server.shutdown()
        server.server_close()
    assert json.loads(done.stdout) == [f"{name}.gz" for name in NAMES]
    shown = b"".join(drawn).decode()
    for name in NAMES:
        # tqdm's bar, named by the file, drawn to the end.
        assert re.search(rf"{name}\.gz: 100%\|", shown), repr(shown)
    assert "Downloading data from" not in shown
