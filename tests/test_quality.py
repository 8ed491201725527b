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


def test_training_loss_rebuilt_from_the_json_keeps_the_style_tiles(quality):
    meta = {"loss": {"content_layers": ["block2_conv2"], "style_layers": ["block1_conv2"],
                     "reduction": "mean", "gram_normalization": "chw", "style_tiles": 3},
            "hyperparameters": {"content_weight": 1.0, "style_weight": 2.0, "tv_weight": 0.0}}
    assert quality.loss_config_from_metadata(meta, "x.json").style_tiles == 3
    del meta["loss"]["style_tiles"]  # networks trained before the flag: global Gram matrices
    assert quality.loss_config_from_metadata(meta, "x.json").style_tiles == 1


@pytest.mark.vgg
@pytest.mark.slow
def test_tiny_report_saves_the_images_it_scores(quality, tmp_path, held_out_photos, capsys):
    folder, holdout = held_out_photos(["a.png"])
    shots, out, cache = tmp_path / "shots", tmp_path / "q.json", tmp_path / "cache"
    common = ["--networks", "starry_night", "--photos", str(folder), "--holdout", str(holdout),
              "--size", "96", "--gatys-steps", "1", "2", "--gatys-cache", str(cache)]
    code = quality.main(common + ["--save-images", str(shots), "--json", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Gatys L-BFGS 2 steps ..." in captured.err
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

    # the rerun reads the Gatys run from --gatys-cache: same numbers, same images written
    shots2, out2 = tmp_path / "shots2", tmp_path / "q2.json"
    assert quality.main(common + ["--save-images", str(shots2), "--json", str(out2)]) == 0
    captured = capsys.readouterr()
    assert "read from --gatys-cache" in captured.err and "steps ..." not in captured.err
    again = json.loads(out2.read_text())["networks"][0]["photos"][0]
    assert again["gatys"]["curve"] == photo["gatys"]["curve"]
    assert again["gatys"]["rows"] == photo["gatys"]["rows"]
    assert sorted(p.name for p in shots2.iterdir()) == names

    # a different step list is a different run: optimized again, not taken from the cache
    assert quality.main(common[:-4] + ["1", "--gatys-cache", str(cache)]) == 0
    assert "Gatys L-BFGS 1 steps ..." in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--save-images", "--gatys-cache"])
def test_a_folder_flag_over_a_file_is_refused(quality, tmp_path, capsys, flag):
    target = tmp_path / "taken"
    target.write_text("keep me")
    assert quality.main([flag, str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err and target.read_text() == "keep me"
