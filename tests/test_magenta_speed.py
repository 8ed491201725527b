"""benchmarks/magenta_speed.py: its command line and one tiny run (no timing is asserted)."""

import json

import pytest


@pytest.fixture(scope="module")
def speed(load_benchmark):
    return load_benchmark("magenta_speed")


def cells(line: str) -> list:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table(text: str, headers) -> list:
    """The body rows (lists of cells) of the Markdown table whose header row is ``headers``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|")
                 and cells(line) == list(headers))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(cells(line))
    return rows


def test_help_states_every_default(speed, capsys):
    with pytest.raises(SystemExit) as exc:
        speed.main(["--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for flag, default in (("--sizes", "[256, 512, 1024]"), ("--threads", "[1, 2]"),
                          ("--repeats", "5")):
        assert flag in text and f"(default: {default})" in text
    assert "--json FILE" in text


def test_sizes_must_be_multiples_of_4(speed, capsys):
    assert speed.main(["--sizes", "66"]) == 2
    err = capsys.readouterr().err
    assert "multiples of 4" in err and "Traceback" not in err


def test_tiny_run_prints_the_table_and_writes_the_json(speed, capsys, tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    out_json = tmp_path / "raw.json"
    code = speed.main(["--sizes", "64", "--threads", "1", "--repeats", "1",
                       "--json", str(out_json)])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = table(out, speed.HEADERS)
    works = {(r[0].split(" (")[0], r[1]) for r in rows}
    assert works == {("multistyle26 transformer", "64²"), ("arbitrary transformer", "64²"),
                     ("arbitrary transformer", "384²"), ("style predictor", "256²"),
                     ("style predictor, eager call", "256²")}
    for r in rows:
        assert len(r) == len(speed.HEADERS) and r[2] == "1"
        assert float(r[3]) > 0
        if (r[0].startswith("arbitrary transformer") and r[1] != "384²"):
            assert r[4].startswith("–") and r[5] == "–"     # the ONNX graph is fixed at 384²
        else:
            assert float(r[4]) > 0 and float(r[5]) > 0
    assert len(table(out, speed.HEADERS[:3] + ("keras_style first call s",
                                              "onnxruntime first call s"))) == len(rows)
    assert "Machine:" in out and "onnxruntime" in out.split("Machine:")[1]

    raw = json.loads(out_json.read_text())
    assert raw["args"] == {"sizes": [64], "threads": [1], "repeats": 1}
    [child] = raw["children"]
    assert child["threads"] == 1 and len(child["rows"]) == len(rows)
    for r in child["rows"]:
        assert len(r["keras"]) == 1 and r["keras"][0] > 0 and r["keras_first"] > 0
        if r["onnx_first"] is not None:
            assert len(r["onnx"]) == 1 and r["onnx"][0] > 0 and r["onnx_first"] > 0
