"""The fault battery: bad inputs, bad outputs and failing writes across the command-line tools.

Each case is one row: a tool, its arguments (run in a fresh sandbox folder, which is the
current folder), the exit code expected, words expected in the one-line error message, and
which files may change.  For every case the runner also checks that no traceback is printed,
that every file of the sandbox the case does not name is byte for byte (and mtime) what it
was, and that nothing new appears except the outputs the case names, so a temporary file
left by an interrupted write fails the case.

The tools run in-process (``main(argv)``), so TensorFlow is imported once; the few cases
that need a separate process (SIGTERM, a real full or read-only file system in a private
mount namespace) are at the end and marked slow, as are the ``train`` cases (each starts a
real run, refused or tiny).
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
ASSET = REPO / "keras_style" / "assets" / "colosseum.jpg"
WEIGHTS = REPO / "weights"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ROOT = os.geteuid() == 0
UNICODE_NAME = "my photo é ✓.png"
UNDECODABLE_NAME = os.fsdecode(b"caf\xe9 raw.png")  # not UTF-8: a surrogate-escaped name

PROGS = {tool: f"python -m keras_style.{tool}"
         for tool in ("stylize", "upscale", "export", "fetch_vgg", "train")}


# --- the sandbox ----------------------------------------------------------------------

def _crop(size, offset=(0, 0), noise=False) -> Image.Image:
    with Image.open(ASSET) as img:
        img = img.convert("RGB")
    w, h = size
    img = img.crop((offset[0], offset[1], offset[0] + w, offset[1] + h))
    if noise:  # incompressible: the PNG is about as large as the raw pixels
        rng = np.random.default_rng(0)
        img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")
    return img


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + \
        struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(path: Path, side: int = 20000) -> Path:
    """A 100-byte PNG whose header claims ``side`` x ``side`` pixels."""
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(PNG_SIGNATURE + _chunk(b"IHDR", header)
                     + _chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _chunk(b"IEND", b""))
    return path


def make_sandbox(root: Path) -> Path:
    _crop((64, 56)).save(root / "photo.png")
    _crop((64, 56), (60, 10)).save(root / "photo2.png")
    _crop((44, 52), (200, 40)).save(root / "painting.jpg")
    for folder in ("a", "b"):
        (root / folder).mkdir()
        _crop((40, 36), (0 if folder == "a" else 30, 0)).save(root / folder / "x.png")
    (root / "photos").mkdir()
    _crop((40, 36), (10, 10)).save(root / "photos" / "keep.jpg")
    (root / "notes.txt").write_text("my notes, not an image\n")
    (root / "notes.png").write_text("also my notes, despite the name\n")
    (root / "out").mkdir()
    runs = root / "runs"
    runs.mkdir()
    for name in ("net", "broken", "cut"):
        shutil.copy(WEIGHTS / "great_wave.json", runs / f"{name}.json")
        shutil.copy(WEIGHTS / "great_wave.weights.h5", runs / f"{name}.weights.h5")
    (runs / "broken.json").write_text('{"format": "keras_style/network", "architec')
    data = (runs / "cut.weights.h5").read_bytes()
    (runs / "cut.weights.h5").write_bytes(data[: len(data) // 3])
    (root / "data").mkdir()
    _crop((96, 80)).save(root / "data" / "a.png")
    _crop((96, 80), (100, 0)).save(root / "data" / "b.png")
    return root


def snapshot(root: Path) -> dict:
    """Every entry under ``root``: files by size, mtime and SHA-1; folders and pipes by kind."""
    seen = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):
                seen[rel] = "dir"
            elif stat.S_ISREG(st.st_mode):
                digest = hashlib.sha1(path.read_bytes()).hexdigest()
                seen[rel] = (st.st_size, st.st_mtime_ns, digest)
            else:
                seen[rel] = ("special", stat.S_IFMT(st.st_mode))
    return seen


# --- cases ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    id: str
    tool: str
    args: tuple
    code: int
    words: tuple = ()                 # all must appear in the error line
    setup: Callable | None = None     # setup(sandbox, monkeypatch)
    changes: tuple = ()               # sandbox entries that may change or appear
    creates: tuple = ()               # sandbox entries that must exist afterwards
    one_line: bool = True             # stderr holds only the error line (code != 0)
    stdout_png: bool = False          # a PNG on standard output
    stdout_words: tuple = ()          # words expected on standard output
    marks: tuple = ()

    def __post_init__(self):
        assert all(isinstance(w, str) for w in self.words), self.id
        assert all(isinstance(a, str) for a in self.args), self.id

    def param(self):
        return pytest.param(self, id=self.id, marks=list(self.marks))


TRAINER = pytest.mark.slow  # trainer cases: each starts a real (refused or tiny) run
SLOW = pytest.mark.slow


def _fail_replace(match: str, code: int = errno.ENOSPC):
    """setup: ``os.replace`` onto a path ending in ``match`` fails with ``code``."""
    def setup(sb, mp):
        real = os.replace

        def replace(src, dst, *args, **kwargs):
            if str(dst).endswith(match):
                raise OSError(code, os.strerror(code))
            return real(src, dst, *args, **kwargs)
        mp.setattr(os, "replace", replace)
    return setup


def _interrupt_save(sb, mp):
    """setup: Pillow writes half a file, then the user presses Ctrl-C."""
    def save(self, fp, format=None, **kwargs):
        Path(fp).write_bytes(b"half an image") if not hasattr(fp, "write") else fp.write(b"half")
        raise KeyboardInterrupt
    mp.setattr(Image.Image, "save", save)


def _existing_image(name):
    def setup(sb, mp):
        _crop((32, 32), (5, 5)).save(sb / name)
    return setup


def _text_file(name, text="precious, not an image\n"):
    def setup(sb, mp):
        (sb / name).parent.mkdir(parents=True, exist_ok=True)
        (sb / name).write_text(text)
    return setup


def _bomb(name):
    def setup(sb, mp):
        bomb_png(sb / name)
    return setup


def _hard_link(src, dst):
    def setup(sb, mp):
        os.link(sb / src, sb / dst)
    return setup


def _symlink(src, dst):
    def setup(sb, mp):
        os.symlink(src, sb / dst)
    return setup


def _stderr_like_python(sb, mp):
    """Python's own stderr escapes what it cannot encode (pytest's capture does not)."""
    sys.stderr.reconfigure(errors="backslashreplace")


def _tty(sb, mp):
    mp.setattr(sys.stdout, "isatty", lambda: True)


def _truncated(name, source="photo.png"):
    def setup(sb, mp):
        _crop((200, 160)).save(sb / name)
        data = (sb / name).read_bytes()
        (sb / name).write_bytes(data[: len(data) // 2])
    return setup


def _copy(src, dst):
    def setup(sb, mp):
        shutil.copy(sb / src, sb / dst)
    return setup


def _fifo_input(name):
    """setup: ``name`` is a named pipe a writer thread feeds with a photo (read once)."""
    def setup(sb, mp):
        os.mkfifo(sb / name)
        data = (sb / "photo.png").read_bytes()

        def feed():
            with open(sb / name, "wb") as fh:
                fh.write(data)
        threading.Thread(target=feed, daemon=True).start()
    return setup


def _all(*setups):
    def setup(sb, mp):
        for s in setups:
            s(sb, mp)
    return setup


def _chmod_readonly(folder):
    def setup(sb, mp):
        (sb / folder).mkdir(exist_ok=True)
        (sb / folder).chmod(0o500)
    return setup


NOT_ROOT = pytest.mark.skipif(ROOT, reason="root writes into read-only folders (the "
                                           "mount-namespace cases below test it as root)")
HAS_DEV_FULL = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")

S, U, E, F, T = "stylize", "upscale", "export", "fetch_vgg", "train"
ART = ("--style", "painting.jpg")
NET = ("--model", "runs/net")
TRAIN = ("--style", "painting.jpg", "--data", "data", "--steps", "1", "--image-size", "64",
         "--batch-size", "1", "--checkpoint-every", "1", "--arch", "light", "--no-progress")

CASES = [
    # --- stylize: inputs ----------------------------------------------------------------
    Case("stylize-bomb-photo", S, ("bomb.png", *ART, "-o", "o.png"), 2,
         ("bomb.png", "400 megapixels", "decompression bombs"), _bomb("bomb.png")),
    Case("stylize-bomb-style", S, ("photo.png", "--style", "bomb.png", "-o", "o.png"), 2,
         ("bomb.png", "decompression bombs"), _bomb("bomb.png")),
    Case("stylize-bomb-with-model", S, ("bomb.png", *NET, "-o", "o.png"), 2,
         ("bomb.png", "megapixels"), _bomb("bomb.png")),
    Case("stylize-truncated-photo-in-a-folder", S, ("photos", *ART, "-o", "out"), 2,
         ("cut.png", "truncated"), _truncated("photos/cut.png")),
    Case("stylize-style-is-a-folder", S, ("photo.png", "--style", "photos"), 2,
         ("photos", "directory")),
    Case("stylize-damaged-network-json", S, ("photo.png", "--model", "runs/broken", "-o",
                                             "o.png"), 2, ("broken.json",)),
    Case("stylize-damaged-network-weights", S, ("photo.png", "--model", "runs/cut", "-o",
                                                "o.png"), 2, ("cut.weights.h5", "damaged")),
    Case("stylize-damaged-network-leaves-no-new-folder", S,
         ("photo.png", "photo2.png", "--model", "runs/broken", "-o", "made/deeper/"), 2,
         ("broken.json",)),
    # --- stylize: outputs -----------------------------------------------------------------
    Case("stylize-two-inputs-one-output-folder", S, ("a/x.png", "b/x.png", *ART, "-o", "out"),
         2, ("a/x.png", "b/x.png", "out/x_painting.jpg")),
    Case("stylize-two-inputs-one-default-name", S, ("a/x.png", "b/x.png", *ART), 2,
         ("a/x.png", "b/x.png", "x_painting.jpg")),
    Case("stylize-output-is-a-hard-link-to-the-photo", S, ("photo.png", *ART, "-o", "link.png"),
         2, ("link.png", "input"), _hard_link("photo.png", "link.png")),
    Case("stylize-output-is-a-symlink-to-the-painting", S,
         ("photo.png", *ART, "-o", "alias.jpg"), 2, ("alias.jpg", "input"),
         _symlink("painting.jpg", "alias.jpg")),
    Case("stylize-output-is-the-network-weights", S,
         ("photo.png", *NET, "-o", "runs/net.weights.h5"), 2, ("suffix",)),
    Case("stylize-output-would-replace-notes", S, ("photo.png", *ART, "-o", "notes.png"), 2,
         ("notes.png", "not an image", "--overwrite")),
    Case("stylize-several-inputs-into-a-file", S, ("photo.png", "photo2.png", *ART, "-o",
                                                   "notes.txt"), 2, ("notes.txt", "folder")),
    Case("stylize-several-inputs-missing-folder", S, ("photo.png", "photo2.png", *ART, "-o",
                                                      "made"), 2, ("made/", "folder")),
    Case("stylize-stdout-is-a-terminal", S, ("photo.png", *ART, "-o", "-"), 2,
         ("terminal",), _tty),
    Case("stylize-stdout-with-two-inputs", S, ("photo.png", "photo2.png", *ART, "-o", "-"), 2,
         ("-o -", "folder")),
    Case("stylize-save-every-onto-notes", S,
         ("photo.png", *ART, "--method", "gatys", "--steps", "4", "--save-every", "2", "-o",
          "r.png"), 2, ("r_step0002.png", "not an image"), _text_file("r_step0002.png")),
    Case("stylize-save-every-to-stdout", S,
         ("photo.png", *ART, "--method", "gatys", "--save-every", "2", "-o", "-"), 2,
         ("--save-every",)),
    Case("stylize-read-only-folder", S, ("photo.png", *ART, "-o", "ro/o.png"), 2,
         ("not writable",), _chmod_readonly("ro"), marks=(NOT_ROOT,)),
    # --- stylize: limits and contradictory flags -------------------------------------------
    Case("stylize-tile-below-twice-the-margin", S, ("photo.png", *ART, "--tile", "100"), 2,
         ("--tile 100", "196")),
    Case("stylize-model-tile-below-twice-the-margin", S, ("photo.png", *NET, "--tile", "64"),
         2, ("--tile 64", "196")),
    Case("stylize-gatys-size-below-32", S, ("photo.png", *ART, "--method", "gatys", "--size",
                                            "16"), 2, ("--size 16", "32")),
    Case("stylize-style-tiles-50-on-64-px", S,
         ("photo.png", *ART, "--method", "gatys", "--size", "64", "--style-tiles", "50"), 2,
         ("--style-tiles 50", "at most 3")),
    Case("stylize-gatys-with-tile", S,
         ("photo.png", *ART, "--method", "gatys", "--tile", "512"), 2, ("--tile", "gatys")),
    Case("stylize-model-and-method", S, ("photo.png", *NET, "--method", "gatys"), 2,
         ("--method", "--model")),
    # --- stylize: writes that fail, and writes that succeed ---------------------------------
    Case("stylize-disk-full-keeps-the-old-image", S, ("photo.png", *NET, "-o", "old.png"), 2,
         ("old.png", "No space left"),
         _all(_existing_image("old.png"), _fail_replace("old.png"))),
    Case("stylize-ctrl-c-while-writing", S, ("photo.png", *NET, "-o", "old.png"), 130,
         ("interrupted",), _all(_existing_image("old.png"), _interrupt_save)),
    Case("stylize-dev-full", S, ("photo.png", *NET, "-o", "/dev/full"), 2,
         ("/dev/full", "No space left"), marks=(HAS_DEV_FULL,)),
    Case("stylize-replaces-an-old-image", S, ("photo.png", *NET, "-o", "old.png"), 0,
         setup=_existing_image("old.png"), changes=("old.png",)),
    Case("stylize-overwrite-replaces-notes", S, ("photo.png", *NET, "-o", "notes.png",
                                                 "--overwrite"), 0, changes=("notes.png",)),
    Case("stylize-unicode-and-spaces", S, (UNICODE_NAME, *NET), 0,
         setup=_copy("photo.png", UNICODE_NAME), creates=("my photo é ✓_net.jpg",)),
    Case("stylize-undecodable-file-name", S, (UNDECODABLE_NAME, *NET, "-o", "out"), 0,
         setup=_all(_copy("photo.png", UNDECODABLE_NAME), _stderr_like_python),
         creates=(Path("out", Path(UNDECODABLE_NAME).stem + "_net.jpg").as_posix(),)),
    Case("stylize-to-stdout", S, ("photo.png", *NET, "-o", "-"), 0, stdout_png=True),
    Case("stylize-to-dev-null", S, ("photo.png", *NET, "-o", "/dev/null"), 0),
    Case("stylize-from-a-named-pipe", S, ("pipe.png", *NET, "-o", "piped.png"), 0,
         setup=_fifo_input("pipe.png"), creates=("piped.png",)),
    Case("stylize-creates-a-folder-with-slash", S, ("photo.png", "photo2.png", *NET, "-o",
                                                    "made/"), 0,
         creates=("made", "made/photo_net.jpg", "made/photo2_net.jpg")),
    # --- upscale ----------------------------------------------------------------------------
    Case("upscale-two-inputs-one-output", U, ("a/x.png", "b/x.png", "-o", "out/"), 2,
         ("a/x.png", "b/x.png", "out/x_x4.png")),
    Case("upscale-two-inputs-one-default-name", U, ("a/x.png", "b/x.png"), 2,
         ("a/x.png", "b/x.png", "x_x4.png")),
    Case("upscale-output-is-the-next-input", U, ("photo.png", "photo_x4.png"), 2,
         ("photo_x4.png", "input"), _copy("photo2.png", "photo_x4.png")),
    Case("upscale-bomb", U, ("bomb.png",), 2, ("bomb.png", "decompression bombs"),
         _bomb("bomb.png")),
    Case("upscale-truncated", U, ("cut.png",), 2, ("cut.png", "truncated"), _truncated("cut.png")),
    Case("upscale-tile-below-twice-the-margin", U, ("photo.png", "--tile", "20"), 2,
         ("--tile 20", "36")),
    Case("upscale-style-network", U, ("photo.png", *NET), 2, ("style network",)),
    Case("upscale-damaged-network-json", U, ("photo.png", "--model", "runs/broken"), 2,
         ("broken.json",)),
    Case("upscale-output-would-replace-notes", U, ("photo.png", "-o", "notes.png"), 2,
         ("notes.png", "not an image")),
    Case("upscale-output-in-a-file", U, ("photo.png", "-o", "notes.txt/big.png"), 2,
         ("notes.txt", "not a folder")),
    Case("upscale-stdout-with-two-inputs", U, ("photo.png", "photo2.png", "-o", "-"), 2,
         ("-o -",)),
    Case("upscale-disk-full", U, ("photo.png", "-o", "big.png"), 2,
         ("big.png", "No space left"), _fail_replace("big.png")),
    Case("upscale-read-only-file-system", U, ("photo.png", "-o", "big.png"), 2,
         ("big.png", "Read-only file system"), _fail_replace("big.png", errno.EROFS)),
    Case("upscale-to-stdout", U, ("photo.png", "-o", "-"), 0, stdout_png=True),
    Case("upscale-a-folder-into-a-new-folder", U, ("photos", "-o", "big/"), 0,
         creates=("big", "big/keep_x4.png")),
    # --- export -----------------------------------------------------------------------------
    Case("export-tflite-onto-the-networks-json", E,
         ("runs/net", "-o", "runs/net.json", "--format", "tflite", "--input-size", "64", "64"),
         2, ("runs/net.json", "input")),
    Case("export-tflite-onto-another-networks-json", E,
         ("runs/net", "-o", "runs/broken.json", "--format", "tflite"), 2, (".json", ".tflite")),
    Case("export-tflite-onto-notes", E, ("runs/net", "-o", "notes.tflite", "--format", "tflite"),
         2, ("notes.tflite", "not a TensorFlow Lite model", "--overwrite"),
         _text_file("notes.tflite")),
    Case("export-savedmodel-onto-a-folder-of-photos", E, ("runs/net", "-o", "photos"), 2,
         ("photos", "not a SavedModel")),
    Case("export-savedmodel-onto-the-networks-folder", E, ("runs/net", "-o", "runs"), 2,
         ("runs", "network")),
    Case("export-savedmodel-onto-a-file", E, ("runs/net", "-o", "notes.txt"), 2,
         ("notes.txt", "not a SavedModel", "--overwrite")),
    Case("export-tflite-into-a-folder", E, ("runs/net", "-o", "out", "--format", "tflite"), 2,
         ("out", "folder")),
    Case("export-missing-folder", E, ("runs/net", "-o", "nope/m.tflite", "--format", "tflite"),
         2, ("nope", "does not exist")),
    Case("export-read-only-folder", E, ("runs/net", "-o", "ro/m.tflite", "--format", "tflite"),
         2, ("not writable",), _chmod_readonly("ro"), marks=(NOT_ROOT,)),
    Case("export-damaged-json", E, ("runs/broken", "-o", "m.tflite", "--format", "tflite"), 2,
         ("broken.json",)),
    Case("export-damaged-weights", E, ("runs/cut", "-o", "m.tflite", "--format", "tflite"), 2,
         ("cut.weights.h5",)),
    Case("export-no-such-network", E, ("runs/nothing", "-o", "m.tflite", "--format", "tflite"),
         2, ("runs/nothing",)),
    Case("export-input-size-with-savedmodel", E, ("runs/net", "-o", "sm", "--input-size", "64",
                                                  "64"), 2, ("--input-size",)),
    Case("export-tflite-name-for-a-savedmodel", E, ("runs/net", "-o", "m.tflite"), 2,
         ("m.tflite", "--format tflite")),
    Case("export-savedmodel-to-stdout", E, ("runs/net", "-o", "-"), 2, ("stream",)),
    Case("export-unknown-format", E, ("runs/net", "-o", "m.onnx", "--format", "onnx"), 2,
         ("--format",)),
    Case("export-tflite-disk-full", E, ("runs/net", "-o", "m.tflite", "--format", "tflite",
                                        "--input-size", "64", "64"), 2,
         ("m.tflite", "No space left"), _fail_replace("m.tflite"), marks=(SLOW,)),
    Case("export-savedmodel-replaces-a-savedmodel", E, ("runs/net", "-o", "sm"), 0,
         setup=_text_file("sm/saved_model.pb", "an older export"),
         changes=("sm/",),
         marks=(SLOW,)),
    # --- fetch_vgg --------------------------------------------------------------------------
    Case("fetch-vgg-keras-home-is-a-file", F, (), 2, ("khome", "not a folder", "KERAS_HOME"),
         lambda sb, mp: _fetch_env(sb, mp, home_is_file=True)),
    Case("fetch-vgg-offline-with-a-damaged-cache", F, (), 2, ("could not fetch",),
         lambda sb, mp: _fetch_env(sb, mp, cached=b"damaged", offline=True), one_line=False),
    Case("fetch-vgg-verified-cache", F, ("--quiet",), 0,
         setup=lambda sb, mp: _fetch_env(sb, mp, cached=FAKE_VGG, fake=True),
         stdout_words=("khome/models/vgg19_weights",)),
    Case("fetch-vgg-disk-full-while-installing", F, ("--quiet",), 2,
         ("No space left", "vgg19_weights"),
         lambda sb, mp: _fetch_env(sb, mp, fake=True, download=FAKE_VGG, replace_fails=True),
         changes=("khome/",)),
    Case("fetch-vgg-unknown-flag", F, ("--bogus",), 2, ("--bogus",)),
    # --- train (the trainer calls the planner in another engineer's change) ----------------
    Case("train-out-is-a-folder", T, (*TRAIN, "--out", "out/"), 2, ("--out", "folder"),
         marks=(TRAINER, SLOW)),
    Case("train-out-in-a-fresh-folder", T, (*TRAIN, "--out", "fresh/my_style"), 0,
         changes=("fresh/",),
         creates=("fresh/my_style.json", "fresh/my_style.weights.h5"), one_line=False,
         marks=(TRAINER, SLOW)),
    Case("train-log-dir-is-a-file", T, (*TRAIN, "--out", "out/m", "--log-dir", "notes.txt"), 2,
         ("--log-dir", "notes.txt"), marks=(TRAINER, SLOW)),
    Case("train-checkpoint-dir-is-a-file", T, (*TRAIN, "--out", "out/m", "--checkpoint-dir",
                                               "notes.txt"), 2,
         ("--checkpoint-dir", "notes.txt"), marks=(TRAINER, SLOW)),
    Case("train-out-json-is-not-a-network", T, (*TRAIN, "--out", "notes"), 2,
         ("notes.json", "not a keras_style network"), _text_file("notes.json"),
         marks=(TRAINER, SLOW)),
    Case("train-nothing-decodes", T, ("--style", "painting.jpg", "--data", "junk", "--steps",
                                      "1", "--image-size", "64", "--out", "out/m"), 2,
         ("none of", "junk"),
         _all(_text_file("junk/a.jpg"), _truncated("junk/b.png")), marks=(TRAINER, SLOW)),
    # 9 x 9 tiles on the 8 x 8 cells of block4_conv3 at 64 px: refused, but cheap to run while
    # the trainer does not refuse it (50 x 50, the case, takes minutes and gigabytes)
    Case("train-style-tiles-9-on-64-px", T, (*TRAIN, "--style-tiles", "9", "--out", "out/m"),
         2, ("--style-tiles 9", "at most 8"), marks=(TRAINER, SLOW)),
    Case("train-damaged-checkpoint-is-named", T,
         (*TRAIN, "--steps", "3", "--out", "out/m", "--resume"), 2,
         ("ckpt-2", "damaged", "ckpt-1"), lambda sb, mp: _trained_run(sb, damage=True),
         marks=(TRAINER, SLOW)),
    Case("train-resume-after-moving-the-damaged-checkpoint", T,
         (*TRAIN, "--steps", "3", "--out", "out/m", "--resume"), 0,
         setup=lambda sb, mp: _trained_run(sb, damage=True, move=True),
         changes=("out/",), creates=("out/m.json",), one_line=False, marks=(TRAINER, SLOW)),
    Case("train-disk-full-at-save", T, (*TRAIN, "--out", "out/m"), 2,
         ("No space left", "--resume"), _fail_replace("m.weights.h5"),
         changes=("out/m_ckpt/",), one_line=False, marks=(TRAINER, SLOW)),
]


def _trained_run(sb, damage=False, move=False):
    """setup: a 2-step run of out/m with a checkpoint at each step; ``damage`` truncates the
    newest checkpoint's data, ``move`` then moves its files to moved/ (what the message of
    a damaged checkpoint asks for)."""
    from keras_style import train

    assert train.main([*TRAIN, "--steps", "2", "--out", "out/m"]) == 0
    ckpt = sb / "out" / "m_ckpt"
    if damage:
        data = next(ckpt.glob("ckpt-2.data-*"))
        data.write_bytes(data.read_bytes()[:20])
    if move:
        (sb / "moved").mkdir()
        for f in ckpt.glob("ckpt-2.*"):
            f.rename(sb / "moved" / f.name)


FAKE_VGG = b"not really VGG19, but the test says it is" * 10


def _fetch_env(sb, mp, home_is_file=False, cached=None, offline=False, fake=False,
               download=None, replace_fails=False):
    """fetch_vgg in the sandbox: KERAS_HOME=sandbox/khome, the network and pip faked."""
    import urllib.error

    from keras_style import vgg_weights

    home = sb / "khome"
    mp.setenv("KERAS_HOME", str(home))
    if home_is_file:
        home.write_text("I am a file")
    if cached is not None:
        (home / "models").mkdir(parents=True)
        (home / "models" / vgg_weights.FILENAME).write_bytes(cached)
    if fake:
        mp.setattr(vgg_weights, "SIZE", len(FAKE_VGG))
        mp.setattr(vgg_weights, "MD5", hashlib.md5(FAKE_VGG).hexdigest())

    def urlopen(*args, **kwargs):
        if download is None:
            if offline:
                raise urllib.error.URLError("offline")
            raise AssertionError("fetch_vgg went to the network")
        return io.BytesIO(download)

    mp.setattr(vgg_weights.urllib.request, "urlopen", urlopen)
    mp.setattr(vgg_weights.subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(
        cmd, 1, "", "ERROR: could not reach the index"))
    if replace_fails:
        _fail_replace(vgg_weights.FILENAME)(sb, mp)


def _tool(name):
    import importlib

    return importlib.import_module(f"keras_style.{name}").main


def run_case(case: Case, sb: Path, monkeypatch, capsysbinary):
    monkeypatch.chdir(sb)
    if case.setup is not None:
        case.setup(sb, monkeypatch)
    capsysbinary.readouterr()  # what the setup printed
    before = snapshot(sb)
    main = _tool(case.tool)
    try:
        code = main(list(case.args))
    except SystemExit as exc:  # argparse
        code = exc.code
    captured = capsysbinary.readouterr()
    err = captured.err.decode(errors="replace")
    monkeypatch.undo()  # os.replace and friends back before the checks
    after = snapshot(sb)

    assert code == case.code, err
    assert "Traceback" not in err, err
    if case.code != 0:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        prog = PROGS[case.tool]
        message = [ln for ln in lines if ln.startswith(f"{prog}: error:")
                   or ln.startswith(f"{prog}: interrupted") or ln.startswith(f"{prog}: stopped")]
        assert len(message) == 1, err
        if case.one_line:
            assert len(lines) == 1, err
        for word in case.words:
            assert word in message[0], (word, message[0])
    if case.stdout_png:
        assert captured.out.startswith(PNG_SIGNATURE), captured.out[:20]
        with Image.open(io.BytesIO(captured.out)) as img:
            assert img.size[0] >= 48
    else:
        assert PNG_SIGNATURE not in captured.out
    for word in case.stdout_words:
        assert word in captured.out.decode(errors="replace"), captured.out
    may_change = [*case.changes, *case.creates]

    def allowed(name):  # "dir/" allows everything under dir
        return any(name == c.rstrip("/") or (c.endswith("/") and name.startswith(c))
                   for c in may_change)

    for name, state in before.items():
        if not allowed(name):
            assert after.get(name) == state, f"{name} was changed or removed"
    unexpected = sorted(n for n in set(after) - set(before) if not allowed(n))
    assert not unexpected, f"unexpected new files: {unexpected}"
    for name in case.creates:
        assert name in after, f"{name} was not written"


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_fault(case, tmp_path, monkeypatch, capsysbinary):
    sb = tmp_path / "sandbox"
    sb.mkdir()
    make_sandbox(sb)
    try:
        run_case(case, sb, monkeypatch, capsysbinary)
    finally:
        for dirpath, dirnames, _ in os.walk(sb):  # chmod'ed folders: let pytest clean up
            for d in dirnames:
                os.chmod(Path(dirpath) / d, 0o755)


def test_the_battery_is_big_enough():
    tools = {c.tool for c in CASES}
    assert tools == {S, U, E, F, T}
    assert len([c for c in CASES if c.tool != T]) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


# --- cases that need their own process ---------------------------------------------------

def _python(*args, **kwargs):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, *args], capture_output=True, env=env,
                          cwd=kwargs.pop("cwd"), **kwargs)


def _can_unshare() -> bool:
    if not ROOT or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


NEEDS_UNSHARE = pytest.mark.skipif(not _can_unshare(),
                                   reason="needs root and unshare -m (a private mount)")


def _in_private_mount(mount: str, command: list[str], cwd: Path):
    """Run ``command`` with ``mount`` (a shell snippet) applied in a private mount namespace:
    the mount is gone when the process ends and nobody else sees it."""
    import shlex

    script = f"{mount} && exec {' '.join(shlex.quote(c) for c in command)}"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                          env=env, cwd=cwd)


def _one_error_line(proc, prog, *words):
    err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode(errors="replace")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert proc.returncode == 2, err
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error:"), err
    for w in words:
        assert w in lines[0], (w, lines[0])


@SLOW
@NEEDS_UNSHARE
def test_upscale_on_a_full_tmpfs(tmp_path):
    """A real full disk: a 64 KiB tmpfs; the probe file fits, the 200 KB result does not."""
    sb = make_sandbox(tmp_path)
    _crop((56, 48), noise=True).save(sb / "noisy.png")
    small = sb / "small"
    small.mkdir()
    proc = _in_private_mount(f"mount -t tmpfs -o size=64k none {small}",
                             [sys.executable, "-m", "keras_style.upscale", "noisy.png",
                              "-o", "small/big.png"], cwd=sb)
    _one_error_line(proc, PROGS[U], "small/big.png", "No space left")
    assert list(small.iterdir()) == []  # the mount is gone; nothing leaked underneath


@SLOW
@NEEDS_UNSHARE
@pytest.mark.parametrize("tool,args", [
    (U, ["photo.png", "-o", "ro/big.png"]),
    (S, ["photo.png", "--model", "runs/net", "-o", "ro/o.png"]),
    (E, ["runs/net", "-o", "ro/m.tflite", "--format", "tflite"]),
], ids=["upscale", "stylize", "export"])
def test_read_only_folder_even_for_root(tmp_path, tool, args):
    """A read-only bind mount: permission bits do not stop root, the file system does."""
    sb = make_sandbox(tmp_path)
    ro = sb / "ro"
    ro.mkdir()
    (ro / "keep.txt").write_text("mine")
    proc = _in_private_mount(f"mount --bind {ro} {ro} && mount -o remount,ro,bind {ro}",
                             [sys.executable, "-m", f"keras_style.{tool}", *args], cwd=sb)
    _one_error_line(proc, PROGS[tool], "ro", "not writable", "Read-only file system")
    assert sorted(p.name for p in ro.iterdir()) == ["keep.txt"]


@SLOW
def test_sigterm_removes_the_temporary_file_and_exits_143(tmp_path):
    """SIGTERM in the middle of a long upscale: exit 143, one line, no temporary file, the old
    output as it was."""
    sb = make_sandbox(tmp_path)
    _crop((320, 240)).save(sb / "wide.png")
    _crop((32, 32)).save(sb / "old.png")
    before = (sb / "old.png").read_bytes()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "keras_style.upscale", "wide.png", "--model",
                             "sr_x8", "--tile", "40", "-o", "old.png"], cwd=sb, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(8)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "stopped by SIGTERM" in err, err
    assert (sb / "old.png").read_bytes() == before
    assert not [p for p in sb.iterdir() if p.name.startswith(".")]


@SLOW
def test_stdout_through_a_real_pipe(tmp_path):
    """``-o -`` in a shell pipeline: the PNG arrives whole; a reader that stops early
    (``| head -c 10``) costs one sentence, not a traceback."""
    sb = make_sandbox(tmp_path)
    proc = _python("-m", "keras_style.upscale", "photo.png", "-o", "-", cwd=sb)
    assert proc.returncode == 0, proc.stderr
    with Image.open(io.BytesIO(proc.stdout)) as img:
        assert img.size == (256, 224)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    shell = subprocess.run(f"{sys.executable} -m keras_style.upscale photo.png -o - | head -c 10 "
                           "> /dev/null; exit ${PIPESTATUS[0]}", shell=True, cwd=sb, env=env,
                           capture_output=True, text=True, executable="/bin/bash")
    assert "Traceback" not in shell.stderr and "Exception ignored" not in shell.stderr, \
        shell.stderr
    assert shell.returncode in (0, 2), shell.stderr  # 0 if all fitted in the pipe buffer


@SLOW
def test_tflite_export_is_quiet_and_replaces_only_tflite(tmp_path, capfd):
    """A good TFLite export prints no E0000 line (the converter's NodeDef noise, from C++ on
    file descriptor 2), and replaces an older TFLite file of the same name."""
    from keras_style import export

    sb = make_sandbox(tmp_path)
    os.chdir(sb)
    try:
        assert export.main(["runs/net", "-o", "m.tflite", "--format", "tflite",
                            "--input-size", "64", "64"]) == 0
        first = (sb / "m.tflite").read_bytes()
        assert export.main(["runs/net", "-o", "m.tflite", "--format", "tflite-fp16",
                            "--input-size", "64", "64"]) == 0
    finally:
        os.chdir(REPO)
    err = capfd.readouterr().err
    assert "E0000" not in err and "NodeDef" not in err, err
    assert err.strip().splitlines() == ["wrote m.tflite", "wrote m.tflite"], err
    assert first[4:8] == b"TFL3" and (sb / "m.tflite").read_bytes() != first
    assert not [p for p in sb.iterdir() if p.name.startswith(".")]
