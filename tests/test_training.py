"""keras_style.training: the library behind python -m keras_style.train."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from keras_style import train
from keras_style.errors import UsageError
from keras_style.stylize import ASSETS
from keras_style.training import TrainConfig

STYLE = ASSETS / "starry_night.jpg"


def test_python_api_gets_the_task_defaults():
    """The task's defaults come from the config itself, not only from the CLI (the Python
    API once kept the style learning rate and TV weight for super-resolution)."""
    sr = TrainConfig(style=None, data="d", task="super-resolution")
    assert (sr.lr, sr.tv_weight) == (1e-4, 0.0)
    style = TrainConfig(style="p.jpg", data="d")
    assert (style.lr, style.tv_weight) == (1e-3, 1e-2)
    assert TrainConfig(style=None, data="d", task="super-resolution", lr=3e-4).lr == 3e-4
    assert train.parse_config(["--task", "super-resolution", "--data", "d"]) == sr
    for bad, words in (({"steps": 0}, "--steps"), ({"min_scale": 1.5}, "--min-scale"),
                       ({"task": "painting"}, "--task"), ({"lr": -1.0}, "--lr"),
                       ({"trainable": "some"}, "--trainable")):
        with pytest.raises(UsageError, match=words):
            TrainConfig(style="p.jpg", data="d", **bad)


@pytest.mark.slow
@pytest.mark.vgg
def test_one_replica_and_two_give_the_same_step(photos, tmp_path):
    """The step under MirroredStrategy on two logical CPUs (the global batch split in two)
    changes the weights as one device does, and its checkpoint resumes on one device."""
    script = Path(__file__).with_name("two_replicas.py")
    proc = subprocess.run([sys.executable, str(script), str(photos), str(STYLE),
                           str(tmp_path / "runs")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["replicas"] == [1, 2]
    np.testing.assert_allclose(got["terms"][0], got["terms"][1], rtol=1e-5)
    assert got["first_step_change"] > 0
    # float32 summation order (oneDNN's in particular) differs between one batch of two and
    # two batches of one: measured 7e-5 without oneDNN, 1e-3 with it. A missing 1/replicas
    # scale would give 1.0.
    assert got["first_step_relative_difference"] < 1e-2
    assert got["final_weight_difference"] < 1e-6
    assert got["resume"] == [0, 1, 0, 2]


@pytest.mark.slow
@pytest.mark.vgg
def test_the_benchmark_times_the_library_step(load_benchmark, monkeypatch):
    import keras_style.training as training

    calls = []
    real = training.make_train_step
    monkeypatch.setattr(training, "make_train_step",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    fast = load_benchmark("fast")
    result = fast.measure_training({"arch": "light", "size": 48, "batch_size": 1, "steps": 1,
                                    "warmup": 1, "threads": 0, "mixed_precision": False,
                                    "style": str(STYLE)})
    assert calls == [1] and result["times"] and np.isfinite(result["final_total"])


def test_the_benchmark_sr_rows_are_asked_for_and_checked(load_benchmark, capsys):
    """fast.py's --sr-factors rows: none by default, 128² HR crops unless --train-size says
    otherwise (the style rows keep 256²), sizes keras_style.train refuses refused here."""
    fast = load_benchmark("fast")
    parser = fast.build_parser()

    def jobs(*argv):
        return fast.make_jobs(parser, parser.parse_args(["--no-inference", *argv]))

    assert {j["kind"] for j in jobs("--archs", "light")} == {"train"}
    got = jobs("--archs", "light", "--sr-factors", "4")
    assert [(j["kind"], j["size"]) for j in got] == [("train", 256), ("train-sr", 128)]
    assert got[1]["factor"] == 4
    for bad in (["--sr-factors", "4", "--train-size", "24"],   # 6-px low-resolution patches
                ["--sr-factors", "4", "--train-size", "34"],   # not a multiple of 4
                ["--sr-factors", "4", "--no-training"], []):   # nothing to measure
        capsys.readouterr()
        with pytest.raises(SystemExit) as exc:
            jobs("--archs", "none", *bad)
        err = capsys.readouterr().err
        assert exc.value.code == 2 and err.count("\n") == 1, (bad, err)


def test_benchmark_sr_constants_match_the_package(load_benchmark):
    """benchmarks/_common.py keeps SR_FACTORS and the shipped sr_x4's recipe without importing
    TensorFlow; they must say what the package and weights/sr_x4.json say."""
    from keras_style.nets.superres import SR_FACTORS

    common = load_benchmark("_common")
    assert common.SR_FACTORS == SR_FACTORS
    shipped = json.loads((Path(__file__).resolve().parents[1] / "weights" / "sr_x4.json")
                         .read_text())["hyperparameters"]
    assert {k: shipped[k] for k in common.SR_RECIPE} == common.SR_RECIPE
    TrainConfig(style=None, data="", task="super-resolution", factor=4, **common.SR_RECIPE)


@pytest.mark.slow
@pytest.mark.vgg
def test_the_benchmark_times_the_library_sr_step(load_benchmark, monkeypatch, capsys):
    """--sr-factors 4: the library's super-resolution step (the bilinear sr_x4 network), and
    its row in the training table."""
    import keras_style.training as training
    from keras_style.nets.superres import build_super_resolution, sr_architecture

    calls = []
    real = training.make_train_step
    monkeypatch.setattr(training, "make_train_step",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    fast = load_benchmark("fast")
    parser = fast.build_parser()
    args = parser.parse_args(["--archs", "none", "--sr-factors", "4", "--train-size", "32",
                              "--batch-size", "1", "--train-steps", "1", "--warmup", "1"])
    (job,) = fast.make_jobs(parser, args)
    job["threads"] = 0
    result = {**job, **fast.measure_training(job), "peak_rss_mib": 0.0}
    assert calls == [1] and len(result["times"]) == 1 and np.isfinite(result["final_total"])
    expected = build_super_resolution(**sr_architecture(4, upsampling="bilinear"))
    assert result["params"] == expected.count_params()
    fast.training_table([result], args, "float32")
    row = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| sr_x4 ")]
    assert len(row) == 1 and f"{expected.count_params():,} params" in row[0]
    assert "| 32² | 1 |" in row[0]


def test_out_is_a_prefix_and_its_folder_is_made(photos, tmp_path, capsys):
    code = train.main(["--style", str(STYLE), "--data", str(photos), "--out",
                       str(tmp_path) + "/"])
    assert code == 2 and "path prefix" in capsys.readouterr().err
    from keras_style.training import check_outputs

    cfg = TrainConfig(style=str(STYLE), data=str(photos), out=str(tmp_path / "new" / "net"))
    check_outputs(cfg)  # a fresh clone's runs/ does not exist yet: it is created
    assert (tmp_path / "new").is_dir() and cfg.ckpt_dir.is_dir()


def test_a_folder_where_nothing_decodes_is_one_sentence(tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.jpg").write_bytes(b"not a jpeg")
    (bad / "b.png").write_bytes(b"\x89PNG broken")
    code = train.main(["--style", str(STYLE), "--data", str(bad), "--out",
                       str(tmp_path / "net"), "--steps", "1", "--image-size", "48",
                       "--arch", "light"])
    err = capsys.readouterr().err
    assert code == 2 and "could be decoded" in err and "Traceback" not in err
    assert err.count("\n") == 1


@pytest.mark.slow
@pytest.mark.vgg
def test_a_damaged_checkpoint_is_named_with_the_older_one(photos, tmp_path, capsys):
    common = ["--style", str(STYLE), "--data", str(photos), "--out", str(tmp_path / "net"),
              "--image-size", "48", "--batch-size", "1", "--arch", "light",
              "--checkpoint-every", "1", "--no-progress", "--threads", "1"]
    assert train.main(common + ["--steps", "2"]) == 0
    data = sorted((tmp_path / "net_ckpt").glob("ckpt-2.data-*"))[0]
    data.write_bytes(data.read_bytes()[:100])       # truncated, as by a full disk
    capsys.readouterr()
    code = train.main(common + ["--steps", "3", "--resume"])
    err = capsys.readouterr().err
    assert code == 2 and "ckpt-2" in err and "damaged" in err and "ckpt-1" in err
    assert "Traceback" not in err


def test_help_documents_every_flag():
    """Each flag as a whole word (``--style`` once passed on ``--style-size``)."""
    import re

    text = train.build_parser().format_help()
    for flag in ("--style", "--data", "--out", "--steps", "--batch-size", "--image-size",
                 "--style-size", "--lr", "--content-weight", "--style-weight", "--tv-weight",
                 "--content-layers", "--style-layers", "--arch", "--checkpoint-dir", "--resume",
                 "--log-dir", "--seed", "--device", "--mixed-precision", "--init",
                 "--trainable", "--distribute", "--style-tiles", "--sr-upsampling"):
        assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text), flag
    assert "light_skip" in text


def test_lr_decay_is_a_half_cosine_to_lr_final():
    cfg = TrainConfig(style=None, data="d", task="super-resolution", lr=1e-3, lr_decay=10,
                      lr_final=1e-4)
    schedule = cfg.learning_rate()
    for step, expected in ((0, 1e-3), (5, 5.5e-4), (10, 1e-4), (50, 1e-4)):
        assert float(schedule(step)) == pytest.approx(expected, rel=1e-5)
    assert float(schedule(2)) > float(schedule(3))  # falling all the way
    # without --lr-final it ends at a tenth; without --lr-decay the rate is a constant
    assert TrainConfig(style=None, data="d", task="super-resolution",
                       lr_decay=10).lr_final == pytest.approx(1e-5)
    constant = TrainConfig(style=None, data="d", task="super-resolution")
    assert constant.learning_rate() == 1e-4 and constant.lr_final is None
    for bad, words in (({"lr_final": 1e-5}, "--lr-final needs --lr-decay"),
                       ({"lr_decay": -1}, "--lr-decay must be 0"),
                       ({"lr_decay": 5, "lr_final": 1.0}, "--lr-final must be between 0 and")):
        with pytest.raises(UsageError, match=words):
            TrainConfig(style=None, data="d", task="super-resolution", **bad)


@pytest.mark.slow
@pytest.mark.vgg
def test_a_resumed_run_goes_on_along_its_lr_schedule(photos, tmp_path, capsys):
    """Two steps, stop, resume to four == four steps straight, with a learning rate that
    changes every step: the schedule continues from the checkpoint, not from the top."""
    from keras_style.networks import load_model

    base = ["--task", "super-resolution", "--factor", "2", "--data", str(photos),
            "--image-size", "32", "--batch-size", "2", "--no-progress", "--lr", "1e-3",
            "--checkpoint-every", "2"]
    common = base + ["--lr-decay", "3", "--lr-final", "1e-5"]
    assert train.main(common + ["--out", str(tmp_path / "straight"), "--steps", "4"]) == 0
    assert train.main(common + ["--out", str(tmp_path / "split"), "--steps", "2"]) == 0
    assert train.main(common + ["--out", str(tmp_path / "split"), "--steps", "4",
                                "--resume"]) == 0, capsys.readouterr().err
    a, b = load_model(tmp_path / "straight"), load_model(tmp_path / "split")
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-6)
    # a constant-rate network differs: the schedule did act
    assert train.main(base + ["--out", str(tmp_path / "constant"), "--steps", "4"]) == 0
    c = load_model(tmp_path / "constant")
    assert any(not np.allclose(wa, wc, atol=1e-6) for wa, wc in zip(a.get_weights(),
                                                                       c.get_weights()))
    meta = json.loads((tmp_path / "split.json").read_text())["hyperparameters"]
    assert (meta["lr_decay"], meta["lr_final"]) == (3, 1e-5)
    code = train.main(base + ["--lr-decay", "3", "--lr-final", "1e-6", "--out",
                              str(tmp_path / "split"), "--steps", "6", "--resume"])
    assert code == 2 and "--lr-final (was 1e-05, now 1e-06)" in capsys.readouterr().err
