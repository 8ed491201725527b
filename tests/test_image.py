"""Tests for keras_style.image: reading any format, clear errors, atomic writes, colour."""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_style import image as kimage
from keras_style.image import (ImageError, check_output_path, load_image, luminance_transfer,
                               match_color, rgb_to_yiq, save_image, yiq_to_rgb)


def assert_rgb01(arr, shape):
    assert isinstance(arr, np.ndarray)
    assert arr.dtype == np.float32
    assert arr.shape == shape
    assert arr.min() >= 0.0 and arr.max() <= 1.0


# --- reading formats ----------------------------------------------------------------

def test_load_rgb_png_is_exact(tmp_image):
    path = tmp_image("RGB", size=(48, 40))
    arr = load_image(path)
    assert_rgb01(arr, (40, 48, 3))
    with Image.open(path) as img:
        np.testing.assert_array_equal(arr, np.asarray(img, np.float32) / 255.0)


def test_load_grayscale(tmp_image):
    path = tmp_image("L", size=(40, 36))
    arr = load_image(path)
    assert_rgb01(arr, (36, 40, 3))
    with Image.open(path) as img:
        gray = np.asarray(img, np.float32) / 255.0
    for c in range(3):
        np.testing.assert_array_equal(arr[..., c], gray)


def test_load_rgba_composites_on_white(tmp_path):
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[..., 0] = 200          # red everywhere
    rgba[:, :20, 3] = 255       # left half opaque
    rgba[:, 20:, 3] = 0         # right half fully transparent
    path = tmp_path / "rgba.png"
    Image.fromarray(rgba, "RGBA").save(path)
    arr = load_image(path)
    assert_rgb01(arr, (40, 40, 3))
    np.testing.assert_allclose(arr[:, :20], np.broadcast_to([200 / 255, 0, 0], (40, 20, 3)))
    np.testing.assert_allclose(arr[:, 20:], 1.0)  # white, not black


def test_load_rgba_crop_of_photo(tmp_image):
    path = tmp_image("RGBA", size=(36, 44))
    arr = load_image(path)
    assert_rgb01(arr, (44, 36, 3))
    with Image.open(path) as img:  # opaque alpha: colours unchanged
        np.testing.assert_allclose(arr, np.asarray(img.convert("RGB"), np.float32) / 255.0)


def test_load_palette(tmp_image):
    path = tmp_image("P", size=(44, 40))
    with Image.open(path) as img:
        assert img.mode == "P"
        ref = np.asarray(img.convert("RGB"), np.float32) / 255.0
    arr = load_image(path)
    assert_rgb01(arr, (40, 44, 3))
    np.testing.assert_array_equal(arr, ref)


def test_load_16_bit(tmp_image):
    path = tmp_image("I;16", size=(40, 40))
    with Image.open(path) as img:
        assert img.mode in ("I;16", "I;16B", "I")  # Pillow reads 16-bit PNGs as one of these
        raw = np.asarray(img, np.float64)
    assert raw.max() > 255  # really 16-bit values
    arr = load_image(path)
    assert_rgb01(arr, (40, 40, 3))
    np.testing.assert_allclose(arr[..., 0], raw / 65535.0, atol=0.6 / 255)
    np.testing.assert_array_equal(arr[..., 0], arr[..., 2])


def test_load_dark_16_bit_keeps_its_range(tmp_path):
    """A 16-bit image is on a 0..65535 scale whatever its content: a very dark frame
    (all values <= 255) must load dark, not be stretched 257x as if it were 8-bit."""
    raw = np.tile(np.arange(0, 200, 5, dtype=np.uint16), (40, 1))  # 40 x 40, max 195
    path = tmp_path / "dark16.png"
    Image.fromarray(raw).save(path)
    with Image.open(path) as img:
        assert img.mode.startswith("I")
    arr = load_image(path)
    assert_rgb01(arr, (40, 40, 3))
    assert arr.max() <= 1 / 255 + 1e-6  # 195 / 65535 rounds to 0 or 1 in 8 bits


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_load_cmyk(tmp_image, suffix):
    path = tmp_image("CMYK", size=(40, 48), suffix=suffix)
    with Image.open(path) as img:
        assert img.mode == "CMYK"
        ref = np.asarray(img.convert("RGB"), np.float32) / 255.0
    arr = load_image(path)
    assert_rgb01(arr, (48, 40, 3))
    np.testing.assert_array_equal(arr, ref)


def test_load_max_size_resizes_long_side(tmp_image):
    arr = load_image(tmp_image("RGB", size=(64, 48)), max_size=32)
    assert_rgb01(arr, (24, 32, 3))
    arr = load_image(tmp_image("RGB", size=(40, 60)), max_size=90)  # upscales too
    assert arr.shape == (90, 60, 3)


def test_load_real_photo_from_shared_data(data_dir):
    photos = sorted((data_dir / "photos").glob("*.jpg"))
    if not photos:
        pytest.skip("no photos in the shared data folder")
    arr = load_image(photos[0], max_size=64)
    assert max(arr.shape[:2]) == 64 and arr.shape[2] == 3
    assert arr.dtype == np.float32 and 0.0 <= arr.min() and arr.max() <= 1.0
    assert arr.std() > 0.01


# --- EXIF orientation ---------------------------------------------------------------

def test_exif_orientation_is_honoured(tmp_path):
    w, h = 64, 40
    pixels = np.zeros((h, w, 3), np.uint8)
    pixels[:16, :16] = (255, 0, 0)  # red block at the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    with Image.open(path) as img:
        assert img.size == (w, h) and img.getexif().get(0x0112) == 6
    arr = load_image(path)
    assert arr.shape == (w, h, 3)  # transposed: now 64 tall, 40 wide
    # rotated clockwise: the stored top-left corner is now the top-right corner
    top_right = arr[2:12, -12:-2]
    assert top_right[..., 0].mean() > 0.8 and top_right[..., 1:].mean() < 0.2
    assert arr[2:12, 2:12].mean() < 0.1


# --- errors name the file -----------------------------------------------------------

def _raises_with_path(path, **kwargs):
    with pytest.raises(ImageError) as info:
        load_image(path, **kwargs)
    assert str(path) in str(info.value)
    return str(info.value)


def test_missing_file_raises(tmp_path):
    _raises_with_path(tmp_path / "nope.jpg")


def test_directory_raises(tmp_path):
    folder = tmp_path / "looks_like.png"
    folder.mkdir()
    assert "directory" in _raises_with_path(folder)


def test_text_file_raises(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not an image\n" * 20)
    _raises_with_path(path)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_truncated_image_raises(tmp_image, suffix):
    path = tmp_image("RGB", size=(64, 64), suffix=suffix)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _raises_with_path(path)


def test_too_small_image_raises(tmp_image):
    path = tmp_image("RGB", size=(20, 20))
    message = _raises_with_path(path)
    assert "20x20" in message
    # and the limit is a parameter
    assert load_image(path, min_size=16).shape == (20, 20, 3)


def test_image_error_is_a_value_error():
    assert issubclass(ImageError, ValueError)


# --- writing ------------------------------------------------------------------------

def test_save_image_roundtrip_and_no_temp_file(tmp_path):
    img = np.random.default_rng(0).uniform(size=(33, 41, 3)).astype("float32")
    out = save_image(img, tmp_path / "out.png")
    assert out == tmp_path / "out.png"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
    back = load_image(out)
    np.testing.assert_allclose(back, img, atol=0.5 / 255 + 1e-6)


def test_save_image_replaces_existing_file_whole(tmp_path):
    path = tmp_path / "out.png"
    path.write_bytes(b"x" * 500_000)  # an old, much larger file
    old_inode = path.stat().st_ino
    img = np.full((32, 32, 3), 0.25, "float32")
    save_image(img, path)
    fresh = tmp_path / "fresh.png"
    save_image(img, fresh)
    assert path.read_bytes() == fresh.read_bytes()  # no tail of the old file left
    assert path.stat().st_ino != old_inode          # a new file renamed into place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.png", "out.png"]


def test_save_image_file_permissions_like_a_normal_file(tmp_path):
    """The atomic write must not leave mkstemp's private 0600 mode on the result: an
    output image gets the permissions any new file gets under the current umask."""
    reference = tmp_path / "reference.txt"
    reference.write_text("x")
    out = save_image(np.zeros((32, 32, 3), "float32"), tmp_path / "out.png")
    assert oct(out.stat().st_mode & 0o777) == oct(reference.stat().st_mode & 0o777)


def test_save_image_failure_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    path.write_bytes(b"previous content")

    def broken_save(self, fp, format=None, **kwargs):
        # write part of a file (to a path or a file object, whichever we are given), then fail
        if hasattr(fp, "write"):
            fp.write(b"partial")
        else:
            Path(fp).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError):
        save_image(np.zeros((32, 32, 3), "float32"), path)
    assert path.read_bytes() == b"previous content"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


@pytest.mark.parametrize("suffix", [".jpg", ".webp", ".bmp", ".tiff"])
def test_save_image_formats(tmp_path, suffix):
    img = np.full((32, 40, 3), (0.2, 0.5, 0.8), "float32")
    out = save_image(img, tmp_path / f"out{suffix}")
    with Image.open(out) as im:
        assert im.format == kimage._WRITE_FORMATS[suffix]
    np.testing.assert_allclose(load_image(out), img, atol=3 / 255)


def test_save_image_unknown_suffix(tmp_path):
    with pytest.raises(ImageError):
        save_image(np.zeros((32, 32, 3), "float32"), tmp_path / "out.gif")
    assert list(tmp_path.iterdir()) == []


def test_check_output_path_accepts_a_new_file(tmp_path, tmp_image):
    src = tmp_image("RGB", size=(40, 40))
    out = tmp_path / "result.JPG"
    assert check_output_path(out, inputs=[src]) == out
    assert check_output_path(str(out)) == out


def test_check_output_path_refuses_an_input(tmp_path, tmp_image, monkeypatch):
    src = tmp_image("RGB", size=(40, 40), name="photo.png")
    with pytest.raises(ImageError, match="input"):
        check_output_path(src, inputs=[src])
    # the same file spelled differently (relative path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ImageError):
        check_output_path("photo.png", inputs=[src])
    # a hard link to an input is the input
    link = tmp_path / "link.png"
    os.link(src, link)
    with pytest.raises(ImageError):
        check_output_path(link, inputs=[src])


def test_check_output_path_refuses_a_directory(tmp_path):
    folder = tmp_path / "results.png"
    folder.mkdir()
    with pytest.raises(ImageError, match="directory"):
        check_output_path(folder)


def test_check_output_path_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        check_output_path(tmp_path / "no_such_folder" / "out.png")


@pytest.mark.parametrize("name", ["out.gif", "out", "out.txt", "out.h5"])
def test_check_output_path_refuses_unknown_suffix(tmp_path, name):
    with pytest.raises(ImageError, match="suffix"):
        check_output_path(tmp_path / name)


# --- colour -------------------------------------------------------------------------

def test_match_color_matches_mean_and_covariance():
    rng = np.random.default_rng(1)
    # correlated colours in safe ranges, so clipping does not interfere
    base = rng.normal(size=(40, 48, 1))
    source = np.clip(0.3 + 0.05 * base + 0.03 * rng.normal(size=(40, 48, 3)), 0, 1)
    target = np.clip(0.6 + np.array([0.04, -0.02, 0.03]) * rng.normal(size=(36, 36, 3))
                     + 0.02 * rng.normal(size=(36, 36, 1)), 0, 1)
    out = match_color(source.astype("float32"), target.astype("float32"))
    assert out.shape == source.shape and out.dtype == np.float32
    assert 0.0 < out.min() and out.max() < 1.0  # no clipping happened
    np.testing.assert_allclose(out.reshape(-1, 3).mean(0), target.reshape(-1, 3).mean(0),
                               atol=1e-5)
    np.testing.assert_allclose(np.cov(out.reshape(-1, 3), rowvar=False),
                               np.cov(target.reshape(-1, 3), rowvar=False), atol=1e-4)
    # it was a real change: the source's mean was far off
    assert np.abs(source.reshape(-1, 3).mean(0) - target.reshape(-1, 3).mean(0)).min() > 0.2


def test_yiq_roundtrip_and_y_is_bt601():
    x = np.random.default_rng(2).uniform(size=(8, 9, 3)).astype("float32")
    np.testing.assert_allclose(yiq_to_rgb(rgb_to_yiq(x)), x, atol=1e-5)
    y = 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
    np.testing.assert_allclose(rgb_to_yiq(x)[..., 0], y, atol=1e-6)


def _yiq(x):
    m = np.array([[0.299, 0.587, 0.114],
                  [0.595716, -0.274453, -0.321263],
                  [0.211456, -0.522591, 0.311135]])
    return np.asarray(x, np.float64) @ m.T


def test_luminance_transfer_keeps_stylized_y_and_content_iq():
    rng = np.random.default_rng(3)
    content = (0.5 + 0.1 * rng.uniform(-1, 1, size=(32, 40, 3))).astype("float32")
    stylized = (0.45 + 0.1 * rng.uniform(-1, 1, size=(32, 40, 3))).astype("float32")
    out = luminance_transfer(stylized, content)
    assert out.shape == (32, 40, 3) and out.dtype == np.float32
    assert 0.0 < out.min() and out.max() < 1.0  # no clipping in this range
    yiq_out, yiq_s, yiq_c = _yiq(out), _yiq(stylized), _yiq(content)
    np.testing.assert_allclose(yiq_out[..., 0], yiq_s[..., 0], atol=1e-5)
    np.testing.assert_allclose(yiq_out[..., 1:], yiq_c[..., 1:], atol=1e-5)
    # and it differs from both inputs
    assert np.abs(out - stylized).max() > 1e-3 and np.abs(out - content).max() > 1e-3


def test_luminance_transfer_resizes_content():
    rng = np.random.default_rng(4)
    content = np.full((64, 80, 3), (0.6, 0.4, 0.3), "float32")
    stylized = (0.4 + 0.1 * rng.uniform(size=(32, 40, 3))).astype("float32")
    out = luminance_transfer(stylized, content)
    assert out.shape == stylized.shape
    np.testing.assert_allclose(_yiq(out)[..., 0], _yiq(stylized)[..., 0], atol=1e-5)
    np.testing.assert_allclose(_yiq(out)[..., 1:], _yiq(content[:32, :40])[..., 1:],
                               atol=2 / 255)
