"""`python -m keras_style.train`: training lowers the loss, resumes exactly, rejects bad input."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_style import train

ASSETS = Path(train.__file__).parent / "assets"
TINY = ["--arch", "light", "--image-size", "48", "--style-size", "64", "--batch-size", "2",
        "--no-progress", "--log-every", "1", "--seed", "3"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Six small real photo crops (one in a subfolder, one webp) and one corrupt file."""
    folder = tmp_path_factory.mktemp("photos")
    with Image.open(ASSETS / "colosseum.jpg") as img:
        img = img.convert("RGB")
        for i in range(6):
            crop = img.crop((i * 50, i * 20, i * 50 + 160, i * 20 + 120)).resize((80, 60))
            target = folder / (f"sub/p{i}.png" if i == 0 else f"p{i}.webp" if i == 1
                               else f"p{i}.jpg")
            target.parent.mkdir(exist_ok=True)
            crop.save(target)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return folder


@pytest.fixture(scope="module")
def style_image(tmp_path_factory):
    path = tmp_path_factory.mktemp("style") / "starry.jpg"
    with Image.open(ASSETS / "starry_night.jpg") as img:
        img.convert("RGB").resize((96, 76)).save(path)
    return path


def _train(capsys, style, data, out, *extra):
    code = train.main(["--style", str(style), "--data", str(data), "--out", str(out),
                       *TINY, *map(str, extra)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _totals(stdout):
    return [float(m) for m in re.findall(r"total=([0-9.e+-]+)", stdout)]


@pytest.mark.vgg
@pytest.mark.slow
def test_training_lowers_the_loss_and_writes_a_network(capsys, tmp_path, data_dir, style_image):
    out = tmp_path / "net"
    code, stdout, err = _train(capsys, style_image, data_dir, out, "--steps", "30",
                               "--lr", "1e-2", "--checkpoint-every", "10", "--style-tiles", "2")
    assert code == 0, err
    totals = _totals(stdout)
    assert len(totals) == 30
    assert np.mean(totals[-5:]) < 0.7 * np.mean(totals[:5]), totals
    meta = json.loads((tmp_path / "net.json").read_text())
    assert meta["steps"] == 30 and meta["architecture_name"] == "light"
    assert meta["training_images"] == 7 and len(meta["skipped_files"]) == 1
    assert "broken.jpg" in meta["skipped_files"][0]
    assert set(meta["final_loss"]) == {"content", "style", "tv", "total"}
    assert meta["hyperparameters"]["lr"] == 1e-2
    assert meta["loss"]["style_tiles"] == 2  # the loss quality.py rebuilds
    assert (tmp_path / "net.weights.h5").stat().st_size > 0
    assert "skipped 1 unreadable file" in err


@pytest.mark.vgg
@pytest.mark.slow
def test_resume_continues_exactly(capsys, tmp_path, data_dir, style_image):
    """Two steps, stop, resume to four == four steps straight (step, optimizer, data)."""
    from keras_style.networks import load_model

    code, _, err = _train(capsys, style_image, data_dir, tmp_path / "straight", "--steps", "4",
                          "--checkpoint-every", "2")
    assert code == 0, err
    code, _, err = _train(capsys, style_image, data_dir, tmp_path / "split", "--steps", "2",
                          "--checkpoint-every", "2")
    assert code == 0, err
    code, stdout, err = _train(capsys, style_image, data_dir, tmp_path / "split", "--steps", "4",
                               "--checkpoint-every", "2", "--resume")
    assert code == 0, err
    assert "resumed from" in err and "at step 2" in err
    assert len(_totals(stdout)) == 2  # only steps 3 and 4 ran
    a = load_model(tmp_path / "straight")
    b = load_model(tmp_path / "split")
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-5)
    assert json.loads((tmp_path / "split.json").read_text())["steps"] == 4

    # resuming with a different loss would mix two trainings under one JSON: refused, and the
    # checkpoints and the network written before are left as they were
    before = sorted((tmp_path / "split_ckpt").iterdir())
    network = (tmp_path / "split.weights.h5").read_bytes()
    code, _, err = _train(capsys, style_image, data_dir, tmp_path / "split", "--steps", "6",
                          "--checkpoint-every", "2", "--resume", "--style-weight", "3",
                          "--style-tiles", "2")
    _one_error(code, err, "--style-weight (was 10.0, now 3.0)", "--style-tiles (was 1, now 2)")
    assert sorted((tmp_path / "split_ckpt").iterdir()) == before
    assert (tmp_path / "split.weights.h5").read_bytes() == network


@pytest.mark.vgg
@pytest.mark.slow
def test_sigkill_loses_at_most_the_steps_since_the_last_checkpoint(tmp_path, data_dir,
                                                                   style_image):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "keras_style.train", "--style", str(style_image), "--data",
           str(data_dir), "--out", str(out), *TINY, "--steps", "500", "--checkpoint-every", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    progress = Path(f"{out}_ckpt") / "progress.json"
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            if progress.exists() and json.loads(progress.read_text())["step"] >= 4:
                break
            if proc.poll() is not None:
                pytest.fail(proc.stderr.read().decode())
            time.sleep(0.2)
        else:
            pytest.fail("no checkpoint was written in time")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    saved = json.loads(progress.read_text())["step"]
    resumed = subprocess.run(cmd[:-4] + ["--steps", str(saved + 1), "--checkpoint-every", "2",
                                         "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"at step {saved}" in resumed.stderr
    assert json.loads(Path(f"{out}.json").read_text())["steps"] == saved + 1


@pytest.mark.vgg
@pytest.mark.slow
def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(capsys, tmp_path, data_dir,
                                                           style_image):
    out = tmp_path / "nan"
    code, _, err = _train(capsys, style_image, data_dir, out, "--steps", "50", "--lr", "1e30",
                          "--checkpoint-every", "1")
    assert code == 3, err
    assert "last good checkpoint" in err and "Traceback" not in err
    ckpt = Path(f"{out}_ckpt")
    step = json.loads((ckpt / "progress.json").read_text())["step"]
    assert all(np.isfinite(v) for v in json.loads((ckpt / "progress.json").read_text())
               ["last_terms"].values()) or step == 0
    assert not Path(f"{out}.weights.h5").exists()


def _one_error(code, err, *words):
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_missing_style_image(capsys, tmp_path, data_dir):
    code, _, err = _train(capsys, tmp_path / "nope.jpg", data_dir, tmp_path / "o")
    _one_error(code, err, "nope.jpg")


def test_data_folder_without_images(capsys, tmp_path, style_image):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no photos here")
    code, _, err = _train(capsys, style_image, empty, tmp_path / "o")
    _one_error(code, err, "no images")


def test_missing_data_folder(capsys, tmp_path, style_image):
    code, _, err = _train(capsys, style_image, tmp_path / "nowhere", tmp_path / "o")
    _one_error(code, err, "does not exist")


def test_resume_without_checkpoint(capsys, tmp_path, data_dir, style_image):
    code, _, err = _train(capsys, style_image, data_dir, tmp_path / "fresh", "--resume")
    _one_error(code, err, "--resume", "no checkpoint")


def test_unknown_architecture(capsys, tmp_path, data_dir, style_image):
    code = train.main(["--style", str(style_image), "--data", str(data_dir), "--arch", "vgg",
                       "--out", str(tmp_path / "o")])
    _one_error(code, capsys.readouterr().err, "vgg")


def test_unknown_layer(capsys, tmp_path, data_dir, style_image):
    code, _, err = _train(capsys, style_image, data_dir, tmp_path / "o", "--style-layers",
                          "conv9_9")
    _one_error(code, err, "conv9_9")


def test_image_size_too_small_for_the_padding(capsys, tmp_path, data_dir, style_image):
    code = train.main(["--style", str(style_image), "--data", str(data_dir), "--image-size", "32",
                       "--out", str(tmp_path / "o")])
    _one_error(code, capsys.readouterr().err, "--image-size")


@pytest.mark.parametrize("flag,value", [("--steps", "0"), ("--batch-size", "-1"),
                                        ("--lr", "0"), ("--image-size", "abc"),
                                        ("--style-tiles", "0")])
def test_nonsense_flags(capsys, tmp_path, data_dir, style_image, flag, value):
    with pytest.raises(SystemExit) as exc:
        train.main(["--style", str(style_image), "--data", str(data_dir), flag, value])
    assert exc.value.code == 2
    assert flag in capsys.readouterr().err


def test_help_documents_every_flag():
    text = train.build_parser().format_help()
    for flag in ("--style", "--data", "--out", "--steps", "--batch-size", "--image-size",
                 "--style-size", "--lr", "--content-weight", "--style-weight", "--tv-weight",
                 "--content-layers", "--style-layers", "--arch", "--checkpoint-dir", "--resume",
                 "--log-dir", "--seed", "--device", "--mixed-precision"):
        assert flag in text


@pytest.mark.vgg
@pytest.mark.slow
def test_callback_sees_every_step_and_its_logged_terms(capsys, tmp_path, data_dir, style_image):
    seen = []
    cfg = train.parse_config(["--style", str(style_image), "--data", str(data_dir), "--out",
                              str(tmp_path / "cb"), *TINY, "--steps", "3"])
    assert train.train(cfg, callback=lambda *a: seen.append(a)) == 0
    assert [s for s, _, _ in seen] == [1, 2, 3]
    assert all(set(t) == {"content", "style", "tv", "total"} for _, t, _ in seen)
    # the same numbers the log printed (to 4 significant digits)
    assert [t["total"] for _, t, _ in seen] == pytest.approx(
        _totals(capsys.readouterr().out), rel=1e-3)
    walls = [w for _, _, w in seen]
    assert walls == sorted(walls) and walls[0] > 0
