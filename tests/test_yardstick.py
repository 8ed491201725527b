"""benchmarks/yardstick.py: the tiled style term sees what the global one misses, and a tiny
real run (the shipped starry_night network, the real VGG19) prints the three terms."""

import re
from pathlib import Path

import pytest

ASSETS = Path(__file__).resolve().parents[1] / "keras_style" / "assets"


@pytest.fixture(scope="module")
def yardstick(load_benchmark):
    return load_benchmark("yardstick")


def test_painting_by_file_or_by_name(yardstick, tmp_path, capsys):
    assert yardstick.find_painting("starry_night", ASSETS) == ASSETS / "starry_night.jpg"
    assert yardstick.find_painting(str(ASSETS / "starry_night.jpg"), tmp_path).is_file()
    assert yardstick.main(["--style", "no_such_painting", "--networks", "starry_night",
                           "--style-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--style no_such_painting" in err and "Traceback" not in err


@pytest.mark.vgg
@pytest.mark.slow
def test_tiny_run_scores_the_photo_and_the_network(yardstick, held_out_photos, capsys):
    folder, holdout = held_out_photos(["a.png", "b.png"])
    code = yardstick.main(["--style", "starry_night", "--style-dir", str(ASSETS),
                           "--networks", "starry_night", "--photos", str(folder),
                           "--holdout", str(holdout), "--limit", "2", "--size", "96",
                           "--style-size", "96"])
    out = capsys.readouterr().out
    assert code == 0
    rows = {m.group(1): [float(v) for v in m.groups()[1:]] for m in re.finditer(
        r"^\| `?([\w ]+?)`? \| ([0-9.e+-]+) \| ([0-9.e+-]+) \| ([0-9.e+-]+) \|$", out, re.M)}
    assert set(rows) == {"photo itself", "starry_night"}, out
    photo, net = rows["photo itself"], rows["starry_night"]
    assert photo[0] == 0 and net[0] > 0  # content: the photo is its own target
    assert net[1] < photo[1]  # the network moved the photo toward the painting's statistics
    assert all(t > 0 for t in photo[1:] + net[1:])
    assert "a.png, b.png" in out
