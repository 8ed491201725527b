"""benchmarks/quality.py: the step-crossing arithmetic, and a tiny real run of the report
(the shipped starry_night network, the real VGG19, two L-BFGS steps on one small photo)."""

import json

import pytest
from PIL import Image


@pytest.fixture(scope="module")
def quality(load_benchmark):
    return load_benchmark("quality")


def test_crossing_interpolates_between_recorded_steps(quality):
    assert quality.crossing([10.0, 6.0, 2.0], 4.0) == pytest.approx(1.5)
    assert quality.crossing([10.0, 6.0, 2.0], 11.0) == 0.0  # the photo itself is already below
    assert quality.crossing([10.0, 6.0, 2.0], 1.0) is None  # never reached
    assert quality.crossing([], 1.0) is None


@pytest.mark.vgg
@pytest.mark.slow
def test_tiny_report_saves_the_images_it_scores(quality, tmp_path, held_out_photos, capsys):
    folder, holdout = held_out_photos(["a.png"])
    shots, out = tmp_path / "shots", tmp_path / "q.json"
    code = quality.main(["--networks", "starry_night", "--photos", str(folder), "--holdout",
                         str(holdout), "--size", "96", "--gatys-steps", "1", "2",
                         "--save-images", str(shots), "--json", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "| network forward pass |" in captured.out
    data = json.loads(out.read_text())
    photo = data["networks"][0]["photos"][0]
    assert photo["photo"] == "a.png" and set(photo["gatys"]["rows"]) == {"1", "2"}
    # two L-BFGS steps from the photo lower the loss it is scored with
    assert photo["gatys"]["rows"]["2"]["terms"]["total"] < photo["photo_terms"]["total"]
    names = sorted(p.name for p in shots.iterdir())
    assert names == ["a_starry_night_gatys1.jpg", "a_starry_night_gatys2.jpg",
                     "a_starry_night_network.jpg"]
    with Image.open(shots / "a_starry_night_network.jpg") as img:
        assert img.size == (96, 64)


def test_save_images_over_a_file_is_refused(quality, tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("keep me")
    assert quality.main(["--save-images", str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err and target.read_text() == "keep me"
