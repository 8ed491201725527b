"""benchmarks/super_resolution.py: its metrics against known values and tf.image.ssim, the
crop-region choice, the verdict sentence, and its command line."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="module")
def sr(load_benchmark):
    return load_benchmark("super_resolution")


def test_y_channel_is_bt601_on_the_16_235_scale(sr):
    colours = np.array([[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float64)
    np.testing.assert_allclose(sr.rgb_to_y(colours),
                               [16, 235, 16 + 65.481, 16 + 128.553, 16 + 24.966], atol=1e-9)


def test_psnr_known_values(sr):
    a = np.full((20, 30), 100.0)
    assert sr.psnr(a, a) == math.inf
    assert sr.psnr(a, a + 1) == pytest.approx(10 * math.log10(255 ** 2))  # MSE 1: 48.13 dB
    assert sr.psnr(a, a + 10) == pytest.approx(10 * math.log10(255 ** 2 / 100))


def test_quantize_rounds_like_saving_an_8_bit_file(sr):
    x = np.array([0.0, 0.5, 1.0, 1.2, -0.1, 0.3])
    expected = np.clip(np.floor(x * 255 + 0.5), 0, 255) / 255
    np.testing.assert_array_equal(sr.quantize(x), expected)
    assert sr.quantize(np.array([0.5]))[0] == 128 / 255


def test_ssim_of_identical_images_is_one_and_drops_with_noise(sr):
    rng = np.random.default_rng(0)
    y = sr.rgb_to_y(rng.random((40, 50, 3)))
    assert sr.ssim(y, y) == pytest.approx(1.0, abs=1e-12)
    noisy = y + rng.normal(0, 20, y.shape)
    assert sr.ssim(y, noisy) < 0.9
    with pytest.raises(ValueError):
        sr.ssim(y[:10, :10], y[:10, :10])  # smaller than the 11×11 window


def test_ssim_matches_tf_image_ssim(sr):
    import tensorflow as tf

    rng = np.random.default_rng(1)
    photo = np.asarray(Image.open(Path(sr.REPO) / "keras_style" / "assets" / "colosseum.jpg")
                       .convert("RGB").crop((0, 0, 64, 48)), np.float64) / 255
    pairs = [(rng.random((37, 53)) * 219 + 16, rng.random((37, 53)) * 219 + 16),
             (sr.rgb_to_y(photo), sr.rgb_to_y(np.clip(photo + rng.normal(0, .05, photo.shape),
                                                      0, 1)))]
    for a, b in pairs:
        ours = sr.ssim(a, b)
        theirs = float(tf.image.ssim(tf.constant(a[None, :, :, None], tf.float64),
                                     tf.constant(b[None, :, :, None], tf.float64), max_val=255.0,
                                     filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03)[0])
        # TensorFlow computes in float32 (variances as E[x²] - E[x]² of values near 200)
        assert ours == pytest.approx(theirs, abs=3e-5)
        assert ours == pytest.approx(_reference_ssim(a, b), abs=1e-12)


def _reference_ssim(a, b):
    """Wang et al.'s formula with a full 11×11 window per pixel, float64, no shortcuts."""
    x = np.arange(11) - 5.0
    w = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * 1.5 ** 2))
    w /= w.sum()
    pa = np.lib.stride_tricks.sliding_window_view(a, (11, 11))
    pb = np.lib.stride_tricks.sliding_window_view(b, (11, 11))
    ma, mb = (pa * w).sum((-2, -1)), (pb * w).sum((-2, -1))
    va = (((pa - ma[..., None, None]) ** 2) * w).sum((-2, -1))
    vb = (((pb - mb[..., None, None]) ** 2) * w).sum((-2, -1))
    cov = ((pa - ma[..., None, None]) * (pb - mb[..., None, None]) * w).sum((-2, -1))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    return float((((2 * ma * mb + c1) * (2 * cov + c2))
                  / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2))).mean())


def test_y_metrics_shave_the_border(sr):
    truth = np.full((40, 40, 3), 0.5)
    damaged = truth.copy()
    damaged[:4] = 0.0  # only inside a 4 px border
    assert sr.y_metrics(damaged, truth, 4)["psnr"] == math.inf
    assert sr.y_metrics(damaged, truth, 3)["psnr"] < 40


def test_crop_window_finds_the_detail(sr):
    img = np.full((64, 96, 3), 0.4)
    rng = np.random.default_rng(2)
    img[24:40, 56:72] = rng.random((16, 16, 3))
    assert sr.most_detailed_window(img, 16, 8, 8) == (56, 24)


def test_sentence_follows_the_numbers(sr):
    def photo(pix_psnr, per_psnr, pix_feat, per_feat):
        return {"pixel": {"psnr": pix_psnr, "feature_loss": pix_feat},
                "perceptual": {"psnr": per_psnr, "feature_loss": per_feat}}

    photos = [photo(25, 24, 10, 5), photo(26, 25.5, 12, 6)]
    text = sr.comparison_sentence(4, {"psnr": 25.5, "feature_loss": 11},
                                  {"psnr": 24.75, "feature_loss": 5.5}, photos)
    assert "0.75 dB lower" in text and "lower on 2 of 2 photos" in text
    assert "50 % lower" in text and "the trade-off the paper reports" in text
    text = sr.comparison_sentence(8, {"psnr": 24, "feature_loss": 5},
                                  {"psnr": 25, "feature_loss": 6}, photos)
    assert "1.00 dB higher" in text and "behind on neither" in text


def test_a_missing_network_is_one_sentence_and_exit_2(sr, tmp_path, capsys, held_out_photos):
    folder, holdout = held_out_photos(["a.png"])
    code = sr.main(["--photos", str(folder), "--holdout", str(holdout), "--no-crops",
                    "--pixel", str(tmp_path / "nothing_x{factor}"), "--factors", "4"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert f"{tmp_path / 'nothing_x4'}" in err and "--skip-missing" in err


def test_an_output_over_an_input_is_refused(sr, tmp_path, capsys, held_out_photos):
    folder, holdout = held_out_photos(["a.png"])
    code = sr.main(["--photos", str(folder), "--holdout", str(holdout), "--skip-missing",
                    "--crops", str(folder / "a.png")])
    assert code == 2 and "refusing to overwrite" in capsys.readouterr().err
    assert Image.open(folder / "a.png").size == (96, 64)


@pytest.mark.vgg
@pytest.mark.slow
def test_tiny_run_writes_table_json_and_crops(sr, tmp_path, capsys,
                                              saved_sr_network, held_out_photos):
    folder, holdout = held_out_photos(["a.png", "b.png"])
    for kind, name in (("perceptual", "net_x4"), ("pixel", "net_x4_pixel")):
        # random last weights: an untrained network is exactly bicubic; this one is a bad one
        saved_sr_network(tmp_path, name, 4, scale=0.05, kind=kind, width=8, residual_blocks=1)
    crops, out = tmp_path / "crops.png", tmp_path / "all.json"
    code = sr.main(["--photos", str(folder), "--holdout", str(holdout), "--factors", "4",
                    "--perceptual", str(tmp_path / "net_x{factor}"),
                    "--pixel", str(tmp_path / "net_x{factor}_pixel"), "--crops", str(crops),
                    "--crop-size", "32", "--crop-photo", "b.png", "a.png",
                    "--json", str(out), "--size", "96"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "| bicubic (`tf.image.resize`) |" in captured.out
    assert "At ×4 the perceptual-loss network is" in captured.out
    data = json.loads(out.read_text())
    rows = data["results"]["x4"]["photos"]
    assert [r["photo"] for r in rows] == ["a.png", "b.png"]
    for r in rows:
        for m in ("bicubic", "pixel", "perceptual"):
            assert 0 < r[m]["ssim"] <= 1 and r[m]["feature_loss"] >= 0
        # a random network is far from the photo; bicubic is close
        assert r["bicubic"]["psnr"] > r["pixel"]["psnr"]
    assert [c["photo"] for c in data["crops"]] == ["b.png", "a.png"]
    assert {c["size"] for c in data["crops"]} == {32}
    with Image.open(crops) as img:
        assert img.width == 6 + 5 * (64 + 6)  # five 32 px crops at --crop-zoom 2
        row = (img.height - 6) / 2  # two photos, one factor: two rows of titles over 64 px
        assert row == int(row) and 64 + 6 < row < 64 + 6 + 60


def test_crop_photos_are_checked_before_any_work(sr, capsys, held_out_photos):
    folder, holdout = held_out_photos(["a.png", "b.png"])
    base = ["--photos", str(folder), "--holdout", str(holdout), "--pixel", "none",
            "--perceptual", "none", "--factors", "4"]
    for extra, words in ((["--crop-photo", "a.png", "b.png", "--crop-origin", "0", "0"],
                          "--crop-origin places the region in one photo"),
                         (["--crop-photo", "a.png", "a.png"], "names a.png twice"),
                         (["--crop-photo", "a.png", "nothing.png"], "--crop-photo nothing.png")):
        code = sr.main(base + extra)
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and words in err, err


def _photo(sr, size=(256, 192)):
    with Image.open(Path(sr.REPO) / "keras_style" / "assets" / "colosseum.jpg") as img:
        return np.asarray(img.convert("RGB").crop((0, 0) + size), np.float64) / 255


def test_grid_measure_sees_a_faint_upsampling_grid(sr):
    truth = _photo(sr)
    assert sr.grid_measure(truth, truth, 4) == {"grid": 1.0, "grid_by_k": {"1": 1.0, "2": 1.0}}
    y = sr.rgb_to_y(truth)
    assert 0.5 < sr.grid_standout(y, 4) < 2  # a photo has no lines of its own there
    # a phase-dependent gain, as a network whose 16 output phases differ paints: 5 % on
    # one pixel of every 4x4 block, hard to see pixel by pixel, stands out in the spectrum
    gain = np.ones(truth.shape[:2])
    gain[1::4, 2::4] = 1.05
    m = sr.grid_measure(sr.quantize(np.clip(truth * gain[..., None], 0, 1)), truth, 4)
    assert m["grid"] > 1.3 and m["grid_by_k"]["1"] > 1.3 and m["grid_by_k"]["2"] > 1.3
    # a period-2 pattern shows at k = 2 (1/2 cycle per pixel) and not at k = 1
    dots = np.zeros(truth.shape[:2])
    dots[::2, ::2] = 3 / 255
    m2 = sr.grid_measure(sr.quantize(np.clip(truth + dots[..., None], 0, 1)), truth, 4)
    assert m2["grid_by_k"]["2"] > 1.5 and abs(m2["grid_by_k"]["1"] - 1) < 0.05
    # noise without a period is not a grid
    noisy = np.clip(truth + np.random.default_rng(0).normal(0, 0.02, truth.shape), 0, 1)
    assert abs(sr.grid_measure(noisy, truth, 4)["grid"] - 1) < 0.1
    with pytest.raises(ValueError, match="multiples of 4"):
        sr.grid_standout(y[:, :-1], 4)


def test_bicubic_enlargement_draws_no_grid(sr):
    import tensorflow as tf

    from keras_style.data import degrade

    truth = _photo(sr)
    for factor in (4, 8):
        low = degrade(truth[None].astype(np.float32), factor)
        up = sr.quantize(np.clip(tf.image.resize(low, truth.shape[:2], "bicubic")[0], 0, 1))
        # the cubic kernel sums to one at every phase: its response is zero at k / factor
        assert sr.grid_measure(up, truth, factor)["grid"] < 1.0


def test_bad_networks_flag_is_one_sentence(sr, tmp_path, capsys, held_out_photos):
    folder, holdout = held_out_photos(["a.png"])
    for bad in ("noequals", "pixel=x", "=x"):
        code = sr.main(["--photos", str(folder), "--holdout", str(holdout), "--no-crops",
                        "--networks", bad])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and "--networks" in err


@pytest.mark.vgg
@pytest.mark.slow
def test_networks_flag_reports_named_rows_with_grid(sr, tmp_path, capsys, saved_sr_network,
                                                    held_out_photos):
    folder, holdout = held_out_photos(["a.png"])
    saved_sr_network(tmp_path, "near_x4", 4, kind="perceptual", width=8, residual_blocks=1)
    saved_sr_network(tmp_path, "shuf_x4", 4, kind="perceptual", width=8, residual_blocks=1,
                     upsampling="shuffle")
    crops, out = tmp_path / "crops.png", tmp_path / "all.json"
    code = sr.main(["--photos", str(folder), "--holdout", str(holdout), "--factors", "4",
                    "--pixel", "none", "--perceptual", "none",
                    "--networks", f"nearest={tmp_path / 'near_x{factor}'}",
                    f"shuffle={tmp_path / 'shuf_x{factor}'}",
                    "--crops", str(crops), "--crop-size", "32", "--json", str(out),
                    "--size", "96"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "| nearest: `near_x4` |" in captured.out and "| shuffle: `shuf_x4` |" in captured.out
    assert "grid (× original's)" in captured.out and "pixel loss:" not in captured.out
    row = json.loads(out.read_text())["results"]["x4"]["photos"][0]
    assert set(row) >= {"bicubic", "nearest", "shuffle"} and "pixel" not in row
    assert row["bicubic"]["grid"] > 0 and set(row["shuffle"]["grid_by_k"]) == {"1", "2"}
    with Image.open(crops) as img:
        assert img.width == 6 + 5 * (64 + 6)  # input, bicubic, nearest, shuffle, truth


def test_photos_are_shrunk_but_not_enlarged_unless_asked(sr, held_out_photos):
    """With --no-enlarge a held-out photo smaller than --size stays an original (enlarged,
    its fine detail is made by interpolation); the default enlarges it, as the README's
    tables were measured."""
    folder, _ = held_out_photos(["a.png"])
    path = folder / "a.png"  # 96 x 64
    assert sr.load_photo("t", path, 128, 8, "why", enlarge=False).shape == (64, 96, 3)
    assert sr.load_photo("t", path, 128, 8, "why", enlarge=True).shape[1] == 128
    for enlarge in (False, True):
        assert sr.load_photo("t", path, 48, 8, "why", enlarge=enlarge).shape[1] == 48
    assert sr.build_parser().parse_args([]).enlarge is True
    assert sr.build_parser().parse_args(["--no-enlarge"]).enlarge is False
