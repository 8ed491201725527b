"""The live demo (keras_style.demo): the plain function, its errors, its model cache, and
the widget driven programmatically (a click on Run, an upload), with and without ipywidgets."""

import io
import sys

import numpy as np
import pytest
from PIL import Image

from keras_style import demo
from keras_style import image as im
from keras_style.errors import UsageError
from keras_style.networks import available_networks
from keras_style.notebook import ASSETS

SIZE = 96


@pytest.fixture(scope="module")
def photo():
    """The bundled photo as the demo reads it at ``SIZE``."""
    return demo.load_input("colosseum", max_size=SIZE)


def jpeg_bytes(size=(80, 60), offset=(40, 30)) -> bytes:
    """A crop of the bundled photo, encoded as a JPEG in memory (what an upload holds)."""
    with Image.open(ASSETS / "colosseum.jpg") as img:
        crop = img.convert("RGB").crop((*offset, offset[0] + size[0], offset[1] + size[1]))
    buf = io.BytesIO()
    crop.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def one_sentence(message: str) -> bool:
    return (message[:1].isalpha() and message.endswith(".") and "\n" not in message
            and "Traceback" not in message)


def test_choices_offer_the_bundled_images_and_every_method():
    offered = demo.choices()
    assert offered["photos"][0] == "colosseum"
    assert offered["paintings"][0] == "starry_night"
    methods = offered["methods"]
    assert methods[0] == "arbitrary" and methods[-1] == "gatys"
    assert methods[1:-1] == available_networks("style")
    assert demo.DEFAULT_SIZE in offered["sizes"]
    for name in offered["paintings"][:3]:
        assert demo.load_input(name, "painting", max_size=32).shape[2] == 3


def test_arbitrary_returns_a_stylized_image_of_the_photo_size(photo):
    result, info = demo.demo_stylize("colosseum", "starry_night", size=SIZE)
    assert result.shape == photo.shape and result.dtype == np.float32
    assert max(result.shape[:2]) == SIZE
    assert 0.0 <= result.min() and result.max() <= 1.0
    assert np.abs(result - photo).mean() > 0.1  # painted, not the photo
    assert info["method"] == "arbitrary" and info["painting"] == "starry_night"
    assert info["strength_is"] == "style vector"
    assert info["result_size"] == info["photo_size"] == (photo.shape[1], photo.shape[0])
    assert info["seconds"] > 0
    assert "arbitrary" in demo.describe(info) and "starry_night" in demo.describe(info)


def test_arbitrary_strength_moves_from_the_photo_towards_the_painting(photo):
    """Strength 0 is the photo repainted in its own style: far closer to it than strength
    1, the colours kept (measured at 96 px: 0.10 vs 0.20 mean difference at 8x12 px)."""
    def coarse(image):
        return im.resize(image, (8, 12))

    gaps = []
    for strength in (0.0, 0.5, 1.0):
        result, _ = demo.demo_stylize(photo, "starry_night", strength=strength, size=SIZE)
        gaps.append(np.abs(coarse(result) - coarse(photo)).mean())
    assert gaps[0] < gaps[1] < gaps[2]
    assert gaps[0] < 0.65 * gaps[2], gaps


def test_a_shipped_network_and_its_pixel_fade(photo):
    name = available_networks("style")[0]
    full, info = demo.demo_stylize(photo, "anything: not read", method=name, size=SIZE)
    assert full.shape == photo.shape and 0.0 <= full.min() and full.max() <= 1.0
    assert np.abs(full - photo).mean() > 0.05
    assert info["strength_is"] == "pixel fade"
    _, meta = demo.cached_network(name)
    assert info["painting"] == meta["style_image"].rsplit(".", 1)[0]
    half, _ = demo.demo_stylize(photo, None, method=name, strength=0.5, size=SIZE)
    np.testing.assert_allclose(half, 0.5 * full + 0.5 * photo, atol=1e-5)
    none, _ = demo.demo_stylize(photo, None, method=name, strength=0.0, size=SIZE)
    np.testing.assert_allclose(none, photo, atol=1e-6)


def test_the_network_cache_loads_each_network_once(monkeypatch, photo):
    import keras_style.networks as networks

    calls = []
    real = networks.load_model
    monkeypatch.setattr(networks, "load_model",
                        lambda *a, **k: calls.append(a) or real(*a, **k))
    monkeypatch.setattr(demo, "_CACHE", {})
    name = available_networks("style")[-1]
    first = demo.cached_network(name)
    assert demo.cached_network(name) is first
    demo.demo_stylize(photo, None, method=name, size=48)
    demo.demo_stylize(photo, None, method=name, size=48)
    assert demo.cached_network(name)[0] is first[0]
    assert len(calls) == 1


@pytest.mark.vgg
@pytest.mark.slow
def test_gatys_steps_from_the_arbitrary_start(photo):
    steps = []
    result, info = demo.demo_stylize("colosseum", "starry_night", method="gatys", size=64,
                                     gatys_steps=2, on_step=lambda s, n: steps.append((s, n)))
    assert steps == [(1, 2), (2, 2)]
    start, _ = demo.demo_stylize("colosseum", "starry_night", size=64)
    assert result.shape == start.shape and max(result.shape[:2]) == 64
    assert 0.0 <= result.min() and result.max() <= 1.0
    assert np.abs(result - start).mean() > 1e-3  # the steps changed the arbitrary result
    assert info["steps"] == 2 and info["strength_is"] == "pixel fade"
    assert demo.cached_gatys_optimizer() is demo.cached_gatys_optimizer()


def test_uploaded_bytes_are_decoded_like_the_file():
    data = jpeg_bytes()
    with Image.open(io.BytesIO(data)) as img:
        decoded = im.from_pil(img.convert("RGB"))
    with open(ASSETS / "starry_night.jpg", "rb") as fh:
        painting = fh.read()
    from_bytes, info = demo.demo_stylize(data, painting, size=SIZE)
    from_array, _ = demo.demo_stylize(decoded, "starry_night", size=SIZE)
    assert from_bytes.shape == (60, 80, 3)  # a small upload is never enlarged
    np.testing.assert_allclose(from_bytes, from_array, atol=1e-5)
    assert info["painting"] == "upload"
    assert demo.load_input(memoryview(data)).shape == (60, 80, 3)


def test_a_large_upload_is_shrunk_to_the_size():
    assert demo.load_input(jpeg_bytes(size=(200, 150), offset=(0, 0)),
                           max_size=64).shape == (48, 64, 3)


@pytest.mark.parametrize("call, words", [
    (lambda: demo.demo_stylize(b"not an image at all", "starry_night"), "uploaded photo"),
    (lambda: demo.demo_stylize(jpeg_bytes()[:300], "starry_night"), "uploaded photo"),
    (lambda: demo.demo_stylize("colosseum", b"\x89PNG\r\n\x1a\n broken"), "uploaded painting"),
    (lambda: demo.demo_stylize("colosseum", "no_such_painting"), "no_such_painting"),
    (lambda: demo.demo_stylize("no_such_photo.jpg", "starry_night"), "no_such_photo"),
    (lambda: demo.demo_stylize("colosseum", "starry_night", method="magic"), "magic"),
    (lambda: demo.demo_stylize("colosseum", "starry_night", strength=1.5), "1.5"),
    (lambda: demo.demo_stylize("colosseum", "starry_night", strength=-0.1), "-0.1"),
    (lambda: demo.demo_stylize("colosseum", None, method=available_networks("style")[0],
                               strength=2), "between 0 and 1"),
    (lambda: demo.demo_stylize("colosseum", "starry_night", strength="strong"), "strength"),
    (lambda: demo.demo_stylize("colosseum", "starry_night", size=8), "size"),
    (lambda: demo.demo_stylize("colosseum", "starry_night", gatys_steps=0), "gatys_steps"),
    (lambda: demo.demo_stylize(np.zeros((8, 8, 3)), "starry_night"), "8x8"),
])
def test_bad_input_is_one_sentence(call, words):
    with pytest.raises(UsageError) as caught:
        call()
    message = str(caught.value)
    assert words in message and one_sentence(message), message


# --- the widget ---------------------------------------------------------------------

def fake_upload(upload, data: bytes, name: str):
    """Set a FileUpload's value as the browser does (the front end's JSON state)."""
    upload.set_state({"value": [{"name": name, "type": "image/jpeg", "size": len(data),
                                 "content": memoryview(data), "last_modified": 0}]})


def jpeg_size(data: bytes):
    with Image.open(io.BytesIO(data)) as img:
        return img.format, img.size


def test_widget_run_shows_photo_and_result_side_by_side():
    pytest.importorskip("ipywidgets")
    box = demo.demo_widget(size=64)
    c = box.controls
    assert c.button in box.children[4].children
    assert jpeg_size(c.photo_image.value) == ("JPEG", (64, 42))  # the photo, before Run
    # no result yet: hidden (an empty Image is a broken-image icon in a browser), not the photo
    assert c.result_image.value == b"" and c.result_image.layout.display == "none"
    assert c.photo_image.layout.display is None
    c.button.click()
    assert jpeg_size(c.result_image.value) == ("JPEG", (64, 42))
    assert c.result_image.layout.display is None
    assert "arbitrary" in c.status.value and "#b00020" not in c.status.value
    assert not c.button.disabled

    fake_upload(c.photo_upload, jpeg_bytes(), "my photo.jpg")
    assert c.result_image.value == b""  # a new photo clears the old result
    assert c.result_image.layout.display == "none"
    c.method.value = available_networks("style")[0]
    assert c.painting.disabled and c.steps.layout.display == "none"
    c.button.click()
    assert jpeg_size(c.photo_image.value) == jpeg_size(c.result_image.value) == \
        ("JPEG", (64, 48))
    if len(c.photo.options) > 1:  # with ../shared/data/photos
        c.photo.value = c.photo.options[-1]  # picking a photo drops the upload
        assert c.photo_upload.value == ()


def test_widget_shows_bad_uploads_as_a_sentence():
    pytest.importorskip("ipywidgets")
    c = demo.demo_widget(size=64).controls
    fake_upload(c.painting_upload, b"GIF89a garbage", "broken.gif")
    assert "uploaded painting" in c.status.value and "#b00020" in c.status.value
    c.button.click()  # no exception escapes the click
    assert "uploaded painting is not an image" in c.status.value
    assert c.result_image.value == b"" and not c.button.disabled
    with pytest.raises(UsageError, match="no_such_method"):
        demo.demo_widget(method="no_such_method")


def test_without_ipywidgets_the_widget_says_how_to_install_them(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now fails
    assert demo.demo_widget() is None
    out = capsys.readouterr().out.strip()
    assert "pip install ipywidgets" in out and "demo_stylize" in out
    assert one_sentence(out)
