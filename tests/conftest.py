"""Shared fixtures for the keras_style tests.

TensorFlow's log level and oneDNN switch must be set before anything imports TensorFlow,
so they are set at the very top of this file (pytest imports conftest.py first).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSET = REPO_ROOT / "keras_style" / "assets" / "colosseum.jpg"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data`` next to the repository; tests that need it skip without it."""
    path = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} is not available")
    return path


@pytest.fixture(scope="session")
def asset_image() -> Image.Image:
    """The package's bundled colosseum photograph, as an RGB PIL image."""
    with Image.open(ASSET) as img:
        return img.convert("RGB")


def _crop(img: Image.Image, size, offset=(0, 0)) -> Image.Image:
    w, h = size
    x, y = offset
    return img.crop((x, y, x + w, y + h))


@pytest.fixture
def tmp_image(tmp_path, asset_image):
    """Factory: write a real ``size=(width, height)`` crop of the colosseum photo.

    ``tmp_image(mode="RGB", size=(48, 40), suffix=".png", name=None, offset=(0, 0), **save)``
    returns the written path. ``mode`` is any PIL mode; ``"I;16"`` writes a 16-bit
    grayscale PNG (8-bit values times 257), ``"CMYK"`` should use ``.jpg`` or ``.tif``.
    """
    counter = iter(range(10_000))

    def make(mode="RGB", size=(48, 40), suffix=".png", name=None, offset=(0, 0), **save):
        img = _crop(asset_image, size, offset)
        if mode == "I;16":
            arr = np.asarray(img.convert("L"), dtype=np.uint16) * 257
            img = Image.fromarray(arr)
            assert img.mode.startswith("I;16"), img.mode
        elif mode != "RGB":
            img = img.convert(mode)
        path = tmp_path / (name or f"image_{next(counter)}_{mode.replace(';', '_')}{suffix}")
        img.save(path, **save)
        return path

    return make


def pytest_configure(config):
    # Keras 3.15's TensorFlow backend calls np.array(variable) on objects whose __array__
    # lacks NumPy 2's ``copy`` keyword; NumPy warns on every variable read. The noise comes
    # from Keras, not from keras_style, and drowns the -ra summary, so hide that one message.
    config.addinivalue_line(
        "filterwarnings",
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


@pytest.fixture(scope="session")
def saved_sr_network():
    """``save(folder, name, factor, scale=0.01, kind=None, **architecture)``: build the trainer's
    super-resolution network, give its last convolution random weights (untrained, the residual
    branch is zero and the network is exactly bicubic, which would hide the network from a
    test), save it as ``folder/name`` with a JSON record and return that path."""
    def save(folder: Path, name: str, factor: int, scale: float = 0.01, kind: str | None = None,
             **architecture) -> Path:
        from keras_style.networks import save_network
        from keras_style.nets.superres import build_super_resolution, sr_architecture

        arch = sr_architecture(factor, **architecture)
        model = build_super_resolution(**arch)
        kernel = model.get_layer("out_conv").kernel
        kernel.assign(np.random.default_rng(0).normal(0, scale, kernel.shape))
        record = {"name": name, "task": "super-resolution", "architecture": arch}
        if kind is not None:
            record["loss"] = {"kind": kind, "content_layers": ["block2_conv2"]}
        save_network(model, folder / name, record)
        return folder / name
    return save


@pytest.fixture(scope="session")
def load_benchmark():
    """``load_benchmark("name")``: the script ``benchmarks/name.py`` as a module (its folder
    on ``sys.path`` while it loads, for its ``from _common import ...``)."""
    import importlib.util
    import sys

    folder = Path(__file__).resolve().parents[1] / "benchmarks"

    def load(name: str):
        added = str(folder) not in sys.path
        if added:
            sys.path.append(str(folder))
        try:
            spec = importlib.util.spec_from_file_location(f"benchmark_{name}",
                                                          folder / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
        finally:
            if added:
                sys.path.remove(str(folder))
    return load


@pytest.fixture
def photos(tmp_path, asset_image):
    """A training-photo folder: three overlapping 200×200 crops of the bundled photo."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        asset_image.crop((i * 60, 0, i * 60 + 200, 200)).save(folder / f"p{i}.jpg")
    return folder


@pytest.fixture
def held_out_photos(tmp_path, asset_image):
    """``held_out_photos(names)``: a photo folder with one 96×64 crop of the bundled photo per
    name, and a holdout file listing them, as the benchmark scripts expect."""
    def make(names):
        folder = tmp_path / "photos"
        folder.mkdir()
        for i, name in enumerate(names):
            asset_image.crop((i * 20, 0, i * 20 + 96, 64)).save(folder / name)
        holdout = tmp_path / "holdout.txt"
        holdout.write_text("# held out\n" + "\n".join(names) + "\n")
        return folder, holdout
    return make
