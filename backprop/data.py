"""MNIST: found or downloaded, verified, parsed strictly, and split as the assignment does.

Where the four files are looked for, in this order:

1. the ``data_dir`` argument;
2. the directory named by the environment variable ``BACKPROP_DATA_DIR``;
3. a per-user cache directory (``~/.cache/backprop/mnist`` on Linux).

Each file may be there as ``name`` or ``name.gz``. A missing file is downloaded into that
directory with :mod:`pooch`, trying each mirror in turn; pooch checks the download against
the published SHA-256 of the ``.gz`` file and moves it into place only then, so an interrupted
or corrupt download never leaves a file that looks complete.

Every file, downloaded or found, is then verified by the SHA-256 of its *decompressed* IDX
bytes, so a re-compressed copy of the same data is accepted and different data is refused.
Each file is parsed at most once per process; later calls are served from memory.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from textwrap import wrap
from typing import NamedTuple
from urllib.parse import urlsplit

import numpy as np
import platformdirs
from numpy.typing import NDArray

from backprop.checks import int_in_range
from backprop.idx import IDXFormatError, parse_idx, read_idx_bytes

ENVIRONMENT_VARIABLE = "BACKPROP_DATA_DIR"

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
"""Where missing files are downloaded from, tried in this order."""


@dataclass(frozen=True)
class MNISTFile:
    """One of the four canonical files, with the digests that identify it.

    Attributes
    ----------
    name : str
        The file's canonical name, without ``.gz``.
    size : int
        Bytes of the decompressed IDX file: nothing larger is read.
    idx_sha256 : str
        SHA-256 of the decompressed IDX bytes: what every copy is checked against.
    gz_sha256 : str
        SHA-256 of the ``.gz`` file on the mirrors: what a download is checked against.
    """

    name: str
    size: int
    idx_sha256: str
    gz_sha256: str


MNIST_FILES = (
    MNISTFile(
        "train-images-idx3-ubyte",
        47_040_016,
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    MNISTFile(
        "train-labels-idx1-ubyte",
        60_008,
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    MNISTFile(
        "t10k-images-idx3-ubyte",
        7_840_016,
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    MNISTFile(
        "t10k-labels-idx1-ubyte",
        10_008,
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
)
"""Training images, training labels, test images, test labels.

:meta hide-value:
"""

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10


class ChecksumError(ValueError):
    """A data file holds other data than the canonical file of its name."""


class MNISTNotFoundError(FileNotFoundError):
    """MNIST files are missing and could not be downloaded."""


class MNIST(NamedTuple):
    """The four MNIST arrays, read-only."""

    train_images: NDArray[np.uint8]
    """Shape (60000, 784): one flattened 28x28 image per row, pixels 0 to 255."""
    train_labels: NDArray[np.uint8]
    """Shape (60000,): digits 0 to 9."""
    test_images: NDArray[np.uint8]
    """Shape (10000, 784)."""
    test_labels: NDArray[np.uint8]
    """Shape (10000,)."""


class Split(NamedTuple):
    """The assignment's training and validation sets: images as pixels, labels as ints."""

    train_images: NDArray[np.uint8]
    train_labels: NDArray[np.int64]
    val_images: NDArray[np.uint8]
    val_labels: NDArray[np.int64]


def data_directory(data_dir: str | PathLike[str] | None = None) -> Path:
    """The directory MNIST is read from: ``data_dir``, else ``$BACKPROP_DATA_DIR``, else a cache.

    Parameters
    ----------
    data_dir : path-like, optional
        An explicit directory, which wins over everything else.

    Returns
    -------
    pathlib.Path
    """
    if data_dir is not None:
        return Path(data_dir).expanduser()
    if os.environ.get(ENVIRONMENT_VARIABLE):
        return Path(os.environ[ENVIRONMENT_VARIABLE]).expanduser()
    return Path(platformdirs.user_cache_dir("backprop")) / "mnist"


def load_mnist(data_dir: str | PathLike[str] | None = None, *, download: bool = True) -> MNIST:
    """The four MNIST arrays, verified against the canonical digests.

    Parameters
    ----------
    data_dir : path-like, optional
        Where the files are; see :func:`data_directory` for where they are looked for
        without it.
    download : bool
        Download missing files into that directory.

    Returns
    -------
    MNIST
        Training images ``(60000, 784)`` and labels ``(60000,)``, test images
        ``(10000, 784)`` and labels ``(10000,)``, all uint8 and read-only.

    Raises
    ------
    MNISTNotFoundError
        If files are missing and cannot be downloaded; the message names them, the directory,
        and how to point ``BACKPROP_DATA_DIR`` at a copy.
    ChecksumError
        If a file holds other data than the canonical file; the message names the file and
        both digests.
    IDXFormatError
        If a file is corrupt, truncated or not IDX.
    """
    paths = locate_files(data_directory(data_dir), download=download)
    train_images, train_labels, test_images, test_labels = (
        _read_verified(path, file)
        for path, file in zip(paths, MNIST_FILES, strict=True)
    )
    return MNIST(
        _check_images(train_images, paths[0]),
        _check_labels(train_labels, paths[1], len(train_images)),
        _check_images(test_images, paths[2]),
        _check_labels(test_labels, paths[3], len(test_images)),
    )


def load_assignment_split(
    data_dir: str | PathLike[str] | None = None, *, train_size: int = 20_000, download: bool = True
) -> Split:
    """The assignment's split: the first training images train, the test images validate.

    Parameters
    ----------
    data_dir : path-like, optional
        As for :func:`load_mnist`.
    train_size : int
        How many of the 60,000 training images to train on (20,000 in the assignment).
    download : bool
        As for :func:`load_mnist`.

    Returns
    -------
    Split
        Images as uint8 pixels ``(N, 784)``, labels as int64.
    """
    train_size = int_in_range(train_size, "train_size", 1, 60_000)
    mnist = load_mnist(data_dir, download=download)
    return Split(
        mnist.train_images[:train_size],
        mnist.train_labels[:train_size].astype(np.int64),
        mnist.test_images,
        mnist.test_labels.astype(np.int64),
    )


def locate_files(directory: Path, *, download: bool = True) -> list[Path]:
    """The path of each of :data:`MNIST_FILES` in ``directory``, downloading what is missing.

    Only regular files count: a name that is taken by a device, a pipe or a directory (or a
    link to one) is an error, never something to read or to download over.

    Raises
    ------
    MNISTNotFoundError
        If a file is missing and downloading is off or fails from every mirror: at most
        five lines naming the files, the directory, each mirror's answer, and
        ``BACKPROP_DATA_DIR`` (:func:`not_found_message`). When no mirror can be reached,
        the other files are not tried.
    IDXFormatError
        If a file's name is taken by something other than a regular file.
    """
    found = {file.name: _existing(directory, file.name) for file in MNIST_FILES}
    missing = [file for file in MNIST_FILES if found[file.name] is None]
    answers: dict[str, str] = {}
    if download and missing:
        created = not directory.exists()
        for file in missing:
            try:
                found[file.name] = _download(file, directory)
            except DownloadError as error:
                answers = error.answers
                if all(answer == UNREACHABLE for answer in answers.values()):
                    break  # no mirror answers: the other files would fare no better
        if created and directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    still_missing = [file.name for file in MNIST_FILES if found[file.name] is None]
    if still_missing:
        raise MNISTNotFoundError(not_found_message(directory, still_missing, answers,
                                                   download))
    return [found[file.name] for file in MNIST_FILES]


UNREACHABLE = "could not be reached"
"""A mirror's answer when no connection to it could be made or kept."""


def not_found_message(
    directory: Path, missing: list[str], answers: dict[str, str], download: bool
) -> str:
    """What is missing, why it could not be downloaded, and where to put it: five lines at most.

    ``answers`` maps each mirror tried to what it answered (:data:`UNREACHABLE`, an HTTP
    status, a wrong checksum).
    """
    count = "all four files" if len(missing) == len(MNIST_FILES) else (
        f"{len(missing)} of its four files")
    hosts = [urlsplit(mirror).hostname or mirror for mirror in answers]
    if not download:
        why = "Downloading was off."
    elif answers and all(answer == UNREACHABLE for answer in answers.values()):
        why = ("Downloading failed: no mirror could be reached (no network?); tried "
               f"{', '.join(hosts)}.")
    else:
        why = "Downloading failed: no mirror served it intact: " + "; ".join(
            f"{host} {answer}" for host, answer in zip(hosts, answers.values(), strict=True)
        ) + "."
    names = [f"{name}," for name in missing[:-2]] + [" and ".join(missing[-2:])]
    put = (f"Put {' '.join(names)} there, or set {ENVIRONMENT_VARIABLE} to their folder.")
    return "\n".join([f"MNIST is missing from {directory} ({count}, with or without .gz).",
                      *wrap(why, 80, break_on_hyphens=False),
                      *wrap(put, 80, break_on_hyphens=False)])


def _existing(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / f"{name}.gz"):
        try:
            mode = candidate.stat().st_mode
        except FileNotFoundError:
            if candidate.is_symlink():
                raise IDXFormatError(f"{candidate}: a link to nothing, not a data file") from None
            continue
        if not stat.S_ISREG(mode):
            raise IDXFormatError(f"{candidate}: not a regular file, so not a data file")
        return candidate
    return None


DOWNLOAD_TIMEOUT = (10, 30)
"""Seconds to connect to a mirror, and to wait for each read from it."""


class DownloadError(OSError):
    """No mirror served a file intact; ``answers`` maps each mirror to what it answered."""

    def __init__(self, answers: dict[str, str]) -> None:
        super().__init__("no mirror served it intact: " + "; ".join(
            f"{mirror} {answer}" for mirror, answer in answers.items()))
        self.answers = answers


def _download(file: MNISTFile, directory: Path) -> Path:
    """Fetch ``file`` from the first mirror that serves it intact.

    Raises
    ------
    DownloadError
        With what each mirror answered.
    """
    # pooch is imported only to download: at import it loads tqdm.auto, which inside Jupyter
    # warns on stderr when ipywidgets is absent, and every chapter of the book loads MNIST.
    import pooch
    import requests

    answers = {}
    logger = pooch.get_logger()
    level = logger.level
    # pooch announces each attempt on a line of its own; the progress bar names the file.
    logger.setLevel("WARNING")
    try:
        for mirror in MIRRORS:
            try:
                return Path(pooch.retrieve(
                    f"{mirror}{file.name}.gz", known_hash=f"sha256:{file.gz_sha256}",
                    fname=f"{file.name}.gz", path=directory,
                    downloader=downloader(f"{file.name}.gz")))
            except requests.ConnectionError:
                answers[mirror] = UNREACHABLE
            except requests.Timeout:
                answers[mirror] = "timed out"
            except requests.HTTPError as error:
                answers[mirror] = f"answered HTTP {error.response.status_code}"
            # pooch's own check of the published SHA-256.
            except ValueError:
                answers[mirror] = "served a file with the wrong checksum"
            except OSError as error:
                answers[mirror] = f"failed: {type(error).__name__}"
    finally:
        logger.setLevel(level)
    raise DownloadError(answers)


def downloader(name: str = "") -> Callable[..., None]:
    """The pooch downloader used for every file: HTTP, with a progress bar on a terminal.

    The bar is tqdm's, named by the file, and appears once a mirror has answered: an
    attempt that fails draws nothing.
    """
    import pooch

    bar = ProgressBar(name) if sys.stderr.isatty() else False
    return pooch.HTTPDownloader(progressbar=bar, timeout=DOWNLOAD_TIMEOUT)


class ProgressBar:
    """A tqdm bar that pooch drives, made when pooch learns the download's size."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bar = None

    @property
    def total(self) -> int | None:
        """The bytes to download, once the mirror has said."""
        return None if self.bar is None else self.bar.total

    @total.setter
    def total(self, size: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=size, desc=self.name, unit="B", unit_scale=True, ncols=79,
                        leave=True, file=sys.stderr)

    def update(self, count: int) -> None:
        """Count ``count`` more bytes."""
        self.bar.update(count)

    def reset(self) -> None:
        """Start counting again (pooch does, to fill the bar at the end)."""
        self.bar.reset()

    def close(self) -> None:
        """Leave the finished bar on the terminal."""
        self.bar.close()


_LOADING = threading.Lock()


def _read_verified(path: Path, file: MNISTFile) -> np.ndarray:
    status = path.stat()
    # The inode and the time of the last status change tell a rewritten file apart even when
    # its size and modification time were kept; one lock makes threads parse a file once.
    identity = (status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)
    with _LOADING:
        return _read_verified_cached(str(path.resolve()), identity, file)


@functools.lru_cache(maxsize=16)
def _read_verified_cached(path: str, identity: tuple[int, ...], file: MNISTFile) -> np.ndarray:
    """Parse a file once per process and version of the file."""
    data = read_idx_bytes(path, max_bytes=file.size)
    digest = hashlib.sha256(data).hexdigest()
    if digest != file.idx_sha256:
        raise ChecksumError(
            f"{path} holds other data than the canonical {Path(path).name.removesuffix('.gz')}:"
            f" the SHA-256 of its decompressed bytes is {digest}, expected {file.idx_sha256}. "
            "Delete it to download it again, or replace it with an intact copy."
        )
    array = parse_idx(data, path)
    array.flags.writeable = False
    return array


def _check_images(images: np.ndarray, path: Path) -> NDArray[np.uint8]:
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise IDXFormatError(
            f"{path}: expected 28x28 images of unsigned bytes, got shape {images.shape} of "
            f"{images.dtype}"
        )
    return images.reshape(len(images), -1)


def _check_labels(labels: np.ndarray, path: Path, num_images: int) -> NDArray[np.uint8]:
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise IDXFormatError(
            f"{path}: expected a 1-D array of unsigned bytes, got shape {labels.shape} of "
            f"{labels.dtype}"
        )
    if len(labels) != num_images:
        raise IDXFormatError(f"{path}: {len(labels)} labels for {num_images} images")
    if len(labels) and labels.max() >= NUM_CLASSES:
        position = int(np.argmax(labels >= NUM_CLASSES))
        raise IDXFormatError(
            f"{path}: label {labels[position]} at position {position} is not a digit 0-9"
        )
    return labels
