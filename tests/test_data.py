"""keras_style.data: training photos as the rest of the package reads them."""

import numpy as np
from PIL import Image

from keras_style.data import ImageFolder
from keras_style.image import load_image


def test_training_photos_follow_their_exif_orientation(tmp_path):
    """A phone photo stored sideways with EXIF orientation 6 trains upright, as
    ``load_image`` shows it (the data pipeline once ignored the tag)."""
    stored = np.zeros((40, 80, 3), np.uint8)       # stored 80 wide, 40 high
    stored[:, :40] = (255, 0, 0)                   # left half red
    img = Image.fromarray(stored)
    exif = img.getexif()
    exif[0x0112] = 6                               # "rotate 90° clockwise to display"
    img.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    shown = load_image(tmp_path / "phone.jpg")
    assert shown.shape[:2] == (80, 40)
    decoded = ImageFolder(tmp_path, size=32)._load(0)
    assert decoded.shape == (80, 40, 3)
    np.testing.assert_allclose(decoded / 255.0, shown, atol=1e-6)
