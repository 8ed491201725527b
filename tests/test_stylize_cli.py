"""`python -m keras_style.stylize`: bad input gets one sentence and exit code 2; good input works."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_style import stylize

ASSETS = Path(stylize.__file__).parent / "assets"


def _photo(path, size=(48, 40), mode="RGB"):
    rng = np.random.default_rng(0)
    arr = (rng.random((size[1], size[0], 3)) * 255).astype(np.uint8)
    img = Image.fromarray(arr, "RGB")
    if mode != "RGB":
        img = img.convert(mode)
    img.save(path)
    return path


@pytest.fixture
def photo(tmp_path):
    return _photo(tmp_path / "photo.png")


@pytest.fixture
def painting(tmp_path):
    return _photo(tmp_path / "painting.jpg", (44, 52))


def run_cli(capsys, *argv):
    code = stylize.main([str(a) for a in argv])
    err = capsys.readouterr().err
    return code, err


def assert_one_clear_error(code, err, *words):
    assert code == 2
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("python -m keras_style.stylize: error:")
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_missing_content(capsys, tmp_path, painting):
    code, err = run_cli(capsys, tmp_path / "nope.jpg", "--style", painting)
    assert_one_clear_error(code, err, "nope.jpg", "no such file")


def test_missing_style(capsys, photo, tmp_path):
    code, err = run_cli(capsys, photo, "--style", tmp_path / "gone.jpg")
    assert_one_clear_error(code, err, "gone.jpg")


def test_style_is_a_directory(capsys, photo, tmp_path):
    code, err = run_cli(capsys, photo, "--style", tmp_path)
    assert_one_clear_error(code, err, "directory")


def test_not_an_image(capsys, tmp_path, painting):
    text = tmp_path / "notes.jpg"
    text.write_text("this is not a picture")
    code, err = run_cli(capsys, text, "--style", painting)
    assert_one_clear_error(code, err, "notes.jpg", "not an image")


def test_truncated_image(capsys, tmp_path, painting):
    good = _photo(tmp_path / "full.jpg", (200, 160))
    data = good.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    code, err = run_cli(capsys, cut, "--style", painting)
    assert_one_clear_error(code, err, "cut.jpg")


def test_image_too_small(capsys, tmp_path, painting):
    tiny = _photo(tmp_path / "tiny.png", (20, 20))
    code, err = run_cli(capsys, tiny, "--style", painting)
    assert_one_clear_error(code, err, "tiny.png", "32")


def test_output_equal_to_input_is_refused_and_kept(capsys, photo, painting):
    before = photo.read_bytes()
    code, err = run_cli(capsys, photo, "--style", painting, "-o", photo)
    assert_one_clear_error(code, err, "input")
    assert photo.read_bytes() == before


def test_output_equal_to_style_is_refused(capsys, photo, painting, tmp_path):
    before = painting.read_bytes()
    code, err = run_cli(capsys, photo, "--style", painting, "-o", painting)
    assert_one_clear_error(code, err, "input")
    assert painting.read_bytes() == before


def test_output_folder_missing(capsys, photo, painting, tmp_path):
    code, err = run_cli(capsys, photo, "--style", painting, "-o", tmp_path / "no" / "out.jpg")
    assert_one_clear_error(code, err, "does not exist")


def test_output_unknown_suffix(capsys, photo, painting, tmp_path):
    code, err = run_cli(capsys, photo, "--style", painting, "-o", tmp_path / "out.xyz")
    assert_one_clear_error(code, err, ".xyz")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_output_folder_not_writable(capsys, photo, painting, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        code, err = run_cli(capsys, photo, "--style", painting, "-o", ro / "out.jpg")
    finally:
        ro.chmod(0o700)
    assert_one_clear_error(code, err, "not writable")


@pytest.mark.parametrize("flag,value", [("--steps", "0"), ("--steps", "-3"), ("--size", "0"),
                                        ("--size", "-64"), ("--steps", "many"),
                                        ("--style-scale", "0"), ("--tv-weight", "-1"),
                                        ("--style-tiles", "0")])
def test_nonsense_numbers(capsys, photo, painting, flag, value):
    with pytest.raises(SystemExit) as exc:
        stylize.main([str(photo), "--style", str(painting), flag, value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert flag in err and "Traceback" not in err


def test_unknown_preset(capsys, photo, painting, tmp_path):
    code, err = run_cli(capsys, photo, "--style", painting, "--method", "gatys", "--preset",
                        "picasso", "-o", tmp_path / "o.jpg")
    assert_one_clear_error(code, err, "picasso", "gatys2016", "tutorial")


def test_style_weights_must_match_styles(capsys, photo, painting):
    code, err = run_cli(capsys, photo, "--style", painting, "--blend", "0.5", "0.5")
    assert_one_clear_error(code, err, "--blend")
    # the old spelling still works (hidden from --help: --style-weight is a loss weight)
    code, err = run_cli(capsys, photo, "--style", painting, "--style-weights", "0.5", "0.5")
    assert_one_clear_error(code, err, "--blend")
    assert "--style-weights" not in stylize.build_parser().format_help()


def test_style_and_model_together(capsys, photo, painting):
    code, err = run_cli(capsys, photo, "--style", painting, "--model", "starry_night")
    assert_one_clear_error(code, err, "--model")


def test_unknown_model(capsys, photo, tmp_path):
    code, err = run_cli(capsys, photo, "--model", "no_such_network", "-o", tmp_path / "o.jpg")
    assert_one_clear_error(code, err, "no_such_network")


def test_existing_output_survives_a_failed_run(capsys, photo, tmp_path):
    out = tmp_path / "result.jpg"
    out.write_bytes(b"precious")
    code, _ = run_cli(capsys, photo, "--style", tmp_path / "missing.jpg", "-o", out)
    assert code == 2
    assert out.read_bytes() == b"precious"


def test_help_lists_every_flag_with_defaults():
    text = stylize.build_parser().format_help()
    for flag in ("--style", "--blend", "--model", "--output", "--size", "--steps",
                 "--optimizer", "--preset", "--init", "--content-weight", "--style-weight",
                 "--tv-weight", "--preserve-color", "--seed", "--save-every", "--style-scale",
                 "--style-tiles", "--method", "--strength", "--style-index", "--sheet",
                 "--tile"):
        assert flag in text
    assert "default: tutorial" in text and "default: 0" in text


def test_subprocess_bad_input_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "keras_style.stylize", str(tmp_path / "x.jpg"),
                           "--style", str(tmp_path / "y.jpg")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


@pytest.mark.vgg
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK"])
def test_odd_modes_are_converted(capsys, tmp_path, painting, mode):
    src = _photo(tmp_path / f"in_{mode}.{'jpg' if mode == 'CMYK' else 'png'}", (40, 36), mode)
    out = tmp_path / f"out_{mode}.png"
    code, err = run_cli(capsys, src, "--style", painting, "--method", "gatys", "--size", "40",
                        "--steps", "1",
                        "--optimizer", "adam", "--no-progress", "-o", out)
    assert code == 0, err
    with Image.open(out) as img:
        assert img.mode == "RGB" and max(img.size) == 40


@pytest.mark.vgg
@pytest.mark.slow
def test_gatys_run_with_two_styles_and_intermediates(capsys, tmp_path, photo, painting):
    second = _photo(tmp_path / "second.png", (40, 40))
    out = tmp_path / "blend.png"
    code, err = run_cli(capsys, photo, "--style", painting, "--style", second, "--method",
                        "gatys", "--style-weights", "0.7", "0.3", "--size", "48", "--steps", "4",
                        "--optimizer", "lbfgs", "--save-every", "2", "--preserve-color",
                        "luminance", "--style-tiles", "2", "--no-progress", "-o", out)
    assert code == 0, err
    assert out.exists() and (tmp_path / "blend_step0002.png").exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_no_argument_run_uses_the_arbitrary_network(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(capsys, "--size", "96")
    assert code == 0, err
    assert "like starry_night.jpg with the pretrained arbitrary-style network" in err
    written = list(tmp_path.glob("colosseum_*.jpg"))
    assert [p.name for p in written] == ["colosseum_starry_night.jpg"]
    with Image.open(written[0]) as img:
        assert max(img.size) == 96


# --- the pretrained networks: --method arbitrary / multistyle ---------------------------

def test_arbitrary_is_the_default_with_a_painting(capsys, tmp_path):
    photo = _photo(tmp_path / "p.png", (80, 56))
    painting = _photo(tmp_path / "art.png", (64, 64))
    out = tmp_path / "o.png"
    code, err = run_cli(capsys, photo, "--style", painting, "--strength", "0.5",
                        "--blend", "1", "-o", out)
    assert code == 0, err
    with Image.open(out) as img:
        assert img.size == (80, 56)


@pytest.mark.parametrize("extra,words", [
    (["--steps", "5"], ["--steps", "--method gatys"]),
    (["--preset", "gatys2016", "--lr", "0.1"], ["--preset", "--lr", "--method gatys"]),
    (["--strength", "1.5"], ["--strength", "between 0 and 1"]),
    (["--style-index", "3"], ["--style-index", "multistyle"]),
    (["--method", "gatys", "--strength", "0.5"], ["--strength", "arbitrary"]),
    (["--method", "multistyle", "--style-index", "2"], ["multistyle", "--style-index"]),
])
def test_flags_that_do_not_fit_the_method(capsys, photo, painting, tmp_path, extra, words):
    out = tmp_path / "kept.jpg"
    out.write_bytes(b"precious")
    code, err = run_cli(capsys, photo, "--style", painting, *extra, "-o", out)
    assert_one_clear_error(code, err, *words)
    assert out.read_bytes() == b"precious"


@pytest.mark.parametrize("spec,words", [("3:x", "does not parse"), ("26", "out of range"),
                                        ("1,,2:-1", "non-negative")])
def test_multistyle_specs_that_do_not_parse(capsys, photo, tmp_path, spec, words):
    code, err = run_cli(capsys, photo, "--method", "multistyle", "--style-index", spec,
                        "-o", tmp_path / "o.jpg")
    assert_one_clear_error(code, err, words)


def test_multistyle_needs_a_style_or_the_sheet(capsys, photo, tmp_path):
    code, err = run_cli(capsys, photo, "--method", "multistyle", "-o", tmp_path / "o.jpg")
    assert_one_clear_error(code, err, "--style-index", "--sheet")


def test_multistyle_blend_and_sheet_are_written(capsys, photo, tmp_path):
    code, err = run_cli(capsys, photo, "--method", "multistyle", "--style-index",
                        "3:0.5,12:0.5", "-o", tmp_path / "b.png")
    assert code == 0, err
    code, err = run_cli(capsys, photo, "--method", "multistyle", "--sheet", "--size", "32",
                        "-o", tmp_path / "sheet.png")
    assert code == 0, err
    with Image.open(tmp_path / "sheet.png") as img:
        assert img.width > 7 * 32


def test_missing_converted_weights_are_one_sentence(capsys, photo, painting, tmp_path,
                                                    monkeypatch):
    import keras_style.networks as networks
    import keras_style.pretrained as pretrained

    empty = tmp_path / "no_weights"
    empty.mkdir()
    monkeypatch.setattr(networks, "shipped_weights_dir", lambda: empty)
    monkeypatch.setattr(pretrained, "_CACHE", {})
    code, err = run_cli(capsys, photo, "--style", painting, "-o", tmp_path / "o.jpg")
    assert_one_clear_error(code, err, "arbitrary")
    assert not (tmp_path / "o.jpg").exists()
