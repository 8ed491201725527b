"""The output planner (keras_style.outputs) and the helpers the tools check their inputs with:
decoding once, argument limits, the trainer's output plan and checkpoint restore."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_style import image as im
from keras_style.cli import check_style_tiles, check_tile, feature_cells, min_tile
from keras_style.errors import DataError, ImageError, OutputError, UsageError, WriteError
from keras_style.files import atomic_path
from keras_style.outputs import (check_file, check_folder, is_stream, plan_export, plan_files,
                                 plan_training_outputs)


def _png(path, size=(40, 36)):
    Image.fromarray(np.full((size[1], size[0], 3), 120, np.uint8)).save(path)
    return path


def _name(tag):
    return lambda p: f"{p.stem}_{tag}.png"


# --- plan_files ---------------------------------------------------------------------

def test_one_input_one_file_and_default_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = _png(tmp_path / "a.png")
    assert plan_files([src], "b.jpg", _name("x")) == [Path("b.jpg")]
    assert plan_files([src], None, _name("x")) == [Path("a_x.png")]


def test_folder_outputs_and_trailing_slash_creates(tmp_path):
    a, b = _png(tmp_path / "a.png"), _png(tmp_path / "b.png")
    target = tmp_path / "new" / "deeper"
    with pytest.raises(OutputError, match="existing folder"):
        plan_files([a, b], str(target), _name("x"))
    assert not target.exists()
    outs = plan_files([a, b], f"{target}/", _name("x"))
    assert outs == [target / "a_x.png", target / "b_x.png"] and target.is_dir()
    assert list(target.iterdir()) == []  # the probe file is gone


def test_a_failed_plan_creates_no_folder(tmp_path):
    a, b = _png(tmp_path / "a.png"), _png(tmp_path / "b.png")
    (tmp_path / "made").mkdir()
    (tmp_path / "made" / "a_x.png").write_text("text")
    with pytest.raises(OutputError, match="not an image"):
        plan_files([a, b], f"{tmp_path / 'made'}/", _name("x"))
    with pytest.raises(OutputError, match="input"):
        plan_files([a, b], f"{tmp_path / 'fresh'}/", _name("x"),
                   protect=[tmp_path / "fresh" / "b_x.png"])
    assert not (tmp_path / "fresh").exists()


def test_collisions_name_both_inputs(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    x1, x2 = _png(tmp_path / "a" / "x.png"), _png(tmp_path / "b" / "x.png")
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputError) as exc:
        plan_files([x1, x2], str(tmp_path / "out"), _name("x4"))
    assert str(x1) in str(exc.value) and str(x2) in str(exc.value) and "x_x4.png" in str(exc.value)


def test_an_output_is_never_an_input(tmp_path):
    a = _png(tmp_path / "a.png")
    later = _png(tmp_path / "a_x.png")
    with pytest.raises(OutputError, match="input"):
        plan_files([a, later], f"{tmp_path}/", _name("x"))
    style = _png(tmp_path / "style.png")
    with pytest.raises(OutputError, match="input"):
        plan_files([a], str(style), _name("x"), protect=[style])
    with pytest.raises(OutputError, match="input"):  # even with --overwrite
        plan_files([a], str(a), _name("x"), overwrite=True)


def test_existing_files_by_kind(tmp_path):
    a = _png(tmp_path / "a.png")
    _png(tmp_path / "old.png")
    (tmp_path / "text.png").write_text("not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    assert check_file(tmp_path / "old.png", inputs=[a]) == tmp_path / "old.png"
    assert check_file(tmp_path / "empty.png")  # nothing to lose
    with pytest.raises(OutputError, match="--overwrite"):
        check_file(tmp_path / "text.png")
    assert check_file(tmp_path / "text.png", overwrite=True)


def test_streams(tmp_path, monkeypatch):
    assert is_stream("-") and is_stream("/dev/null") and is_stream("/dev/stdout")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert is_stream(fifo) and not is_stream(tmp_path) and not is_stream(tmp_path / "x.png")
    assert check_file("-") == Path("-")
    import sys

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    with pytest.raises(OutputError, match="terminal"):
        check_file("-")


def test_check_folder_probe_catches_what_permission_bits_do_not(tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(OutputError, match="not writable .Read-only file system"):
        check_folder(tmp_path)


# --- export ---------------------------------------------------------------------------

def test_plan_export(tmp_path):
    net = tmp_path / "net.json"
    net.write_text('{"format": "keras_style/network"}')
    weights = tmp_path / "net.weights.h5"
    weights.write_bytes(b"\x89HDF\r\n\x1a\n")
    inputs = [net, weights]
    with pytest.raises(OutputError, match="input"):
        plan_export(net, "tflite", inputs)
    with pytest.raises(OutputError, match="input"):
        plan_export(net, "tflite", inputs, overwrite=True)
    old = tmp_path / "old.tflite"
    old.write_bytes(b"\x1c\x00\x00\x00TFL3" + b"\x00" * 32)
    assert plan_export(old, "tflite", inputs) == old
    sm = tmp_path / "sm"
    sm.mkdir()
    (sm / "saved_model.pb").write_bytes(b"x")
    assert plan_export(sm, "savedmodel", inputs) == sm
    (tmp_path / "empty").mkdir()
    assert plan_export(tmp_path / "empty", "savedmodel", inputs)
    with pytest.raises(OutputError, match="holds the network"):
        plan_export(tmp_path, "savedmodel", inputs)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "x.txt").write_text("x")
    with pytest.raises(OutputError, match="not a SavedModel"):
        plan_export(mine, "savedmodel", inputs, overwrite=True)  # never, not even asked


# --- writes ---------------------------------------------------------------------------

def test_atomic_path_failure_is_a_write_error_and_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "t.bin"
    target.write_bytes(b"old")

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(WriteError) as exc:
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"new")
    assert isinstance(exc.value, OSError) and exc.value.errno == errno.ENOSPC
    assert str(exc.value).startswith(f"could not write {target}: No space left on device")
    assert target.read_bytes() == b"old" and sorted(tmp_path.iterdir()) == [target]


def test_atomic_path_writes_through_a_symlink(tmp_path):
    """``-o latest.png`` where latest.png links to a file: the file is replaced, the link
    stays a link (it used to become a regular file, breaking the user's link)."""
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "t.bin"
    target.write_bytes(b"old")
    link = tmp_path / "latest.bin"
    link.symlink_to(target)
    with atomic_path(link) as tmp:
        tmp.write_bytes(b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["t.bin"]


def test_save_image_into_a_pipe(tmp_path):
    import threading

    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    im.save_image(np.zeros((8, 8, 3), np.float32), fifo)
    reader.join(10)
    assert got and got[0].startswith(b"\x89PNG") and sorted(tmp_path.iterdir()) == [fifo]


# --- decoding ---------------------------------------------------------------------------

def test_decoding_once_decodes_each_file_once(tmp_path, monkeypatch):
    path = _png(tmp_path / "p.png")
    calls = []
    real_open = Image.open

    def counting_open(fp, *args, **kwargs):
        calls.append(fp)
        return real_open(fp, *args, **kwargs)
    monkeypatch.setattr(Image, "open", counting_open)
    with im.decoding_once():
        first = im.load_image(path)
        second = im.load_image(path, max_size=20)
        assert im.image_size(path) == (40, 36)
    assert len(calls) == 1 and first.shape == (36, 40, 3) and max(second.shape[:2]) == 20
    im.load_image(path)
    im.load_image(path)
    assert len(calls) == 3  # outside the block, nothing is kept
    with im.decoding_once():
        im.load_image(path)
        _png(path, (50, 40))  # the file changed: decoded again
        assert im.load_image(path).shape == (40, 50, 3)


def test_decompression_bomb_is_one_sentence(tmp_path):
    from test_faults import bomb_png

    with pytest.raises(ImageError, match="bomb.png claims 400 megapixels"):
        im.load_image(bomb_png(tmp_path / "bomb.png"))


def test_require_decodable(tmp_path):
    (tmp_path / "a.jpg").write_text("nope")
    _png(tmp_path / "b.png", (8, 8))
    with pytest.raises(DataError, match="none of the 2 image files in data/ is usable"):
        im.require_decodable([tmp_path / "a.jpg", tmp_path / "b.png"], 16, what="data/")
    good = _png(tmp_path / "c.png")
    assert im.require_decodable([tmp_path / "a.jpg", good], 16) == good


def test_list_images_lists_a_file_once(tmp_path):
    a = _png(tmp_path / "a.png")
    assert im.list_images([tmp_path, a]) == [a]


# --- limits ---------------------------------------------------------------------------

@pytest.mark.parametrize("margin", [16, 17, 96])
def test_min_tile_is_what_tiles_accepts(margin):
    from keras_style.networks import tiles

    smallest = min_tile(margin)
    next(tiles(smallest + 8, smallest + 8, smallest, margin))
    with pytest.raises(ValueError):
        next(tiles(smallest + 8, smallest + 8, smallest - 1, margin))
    check_tile(smallest, margin)
    with pytest.raises(UsageError, match=str(smallest)):
        check_tile(smallest - 1, margin)


def test_feature_cells_and_style_tiles():
    layers = [f"block{i}_conv1" for i in range(1, 6)]
    assert feature_cells(layers, 53, 64) == (3, 4, "block5_conv1")
    assert feature_cells(["conv4_2", "pool2"], 256, 256) == (32, 32, "conv4_2")
    assert feature_cells(["block3_pool"], 64, 64)[:2] == (8, 8)
    check_style_tiles(3, layers, 53, 64)
    with pytest.raises(UsageError, match="at most 3"):
        check_style_tiles(4, layers, 53, 64)
    with pytest.raises(UsageError, match="unknown VGG19 layer"):
        feature_cells(["fc7"], 64, 64)


# --- the trainer's side ------------------------------------------------------------------

def test_plan_training_outputs(tmp_path):
    plan = plan_training_outputs(tmp_path / "runs" / "my_style")
    assert plan.weights == tmp_path / "runs" / "my_style.weights.h5"
    assert plan.json == tmp_path / "runs" / "my_style.json"
    assert plan.checkpoint_dir == tmp_path / "runs" / "my_style_ckpt"
    assert (tmp_path / "runs").is_dir() and plan.checkpoint_dir.is_dir()
    assert plan_training_outputs(f"{tmp_path}/runs/b.json").prefix == tmp_path / "runs" / "b"
    with pytest.raises(OutputError, match="is a folder; give a path prefix"):
        plan_training_outputs(f"{tmp_path}/runs/")
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="--log-dir"):
        plan_training_outputs(tmp_path / "runs" / "c", log_dir=tmp_path / "notes.txt")
    with pytest.raises(OutputError, match="--checkpoint-dir"):
        plan_training_outputs(tmp_path / "runs" / "c", checkpoint_dir=tmp_path / "notes.txt")
    (tmp_path / "runs" / "d.json").write_text("my own JSON")
    with pytest.raises(OutputError, match="d.json exists and is not a keras_style network"):
        plan_training_outputs(tmp_path / "runs" / "d")
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.slow
def test_restore_checkpoint_names_the_damaged_file_and_offers_the_previous(tmp_path):
    import keras
    import tensorflow as tf

    from keras_style.outputs import restore_checkpoint

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    step = tf.Variable(0, dtype=tf.int64)
    ckpt = tf.train.Checkpoint(model=model, step=step)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path / "c"), max_to_keep=2)
    for i in (1, 2):
        step.assign(i)
        manager.save(checkpoint_number=i)
    data = next((tmp_path / "c").glob("ckpt-2.data-*"))
    data.write_bytes(data.read_bytes()[:10])
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path / "c"), max_to_keep=2)
    with pytest.raises(OutputError) as exc:
        restore_checkpoint(ckpt, manager)
    message = str(exc.value)
    assert "ckpt-2" in message and "damaged" in message and "ckpt-1 is kept" in message
    for f in (tmp_path / "c").glob("ckpt-2.*"):  # what the message says to do
        f.rename(tmp_path / f.name)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path / "c"), max_to_keep=2)
    step.assign(0)
    assert restore_checkpoint(ckpt, manager).endswith("ckpt-1") and int(step.numpy()) == 1


def test_stderr_filter_drops_only_the_noise(capfd):
    from keras_style._tfenv import stderr_without

    with stderr_without(("NodeDef mentions attribute",)):
        os.write(2, b"E0000 node_def_util.cc:682] NodeDef mentions attribute Truncate\n")
        os.write(2, b"E0000 a real error\n")
    err = capfd.readouterr().err
    assert "NodeDef" not in err and "a real error" in err
