"""Task data: both published layouts, normalisation, and a clear error for each bad input."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from geneb.cli import main
from geneb.data import (
    TaskDataError,
    discover_tasks,
    load_task_from,
    normalize_sequence,
    read_flat_file,
)


def write_flat(path, rows, header="text,label,split"):
    path.write_text(header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


GOOD = [("ACGT", 0, "train"), ("acgu", 1, "train"), ("GGCC", 0, "test"), ("TTAA", 1, "test")]


def test_flat_layout_normalises_and_keeps_order(tmp_path):
    t = read_flat_file(write_flat(tmp_path / "t1.csv", GOOD + [("RYKM", 1, "train")]))
    assert t.task_id == "t1"
    assert t.train.sequences == ("ACGT", "ACGT", "NNNN")  # lower -> upper, U -> T, IUPAC -> N
    assert t.train.labels.dtype == np.int64 and t.train.labels.tolist() == [0, 1, 1]
    assert t.test.sequences == ("GGCC", "TTAA")
    assert len(t.content_hash) == 64


def test_hf_layout_equals_flat_layout(tmp_path):
    flat = read_flat_file(write_flat(tmp_path / "task.csv", GOOD))
    d = tmp_path / "hf" / "tasks" / "task"
    d.mkdir(parents=True)
    (d / "train.csv").write_text("text,label\nACGT,0\nacgu,1\n")
    with gzip.open(d / "test.csv.gz", "wt") as fh:  # compressed files read the same
        fh.write("text,label\nGGCC,0\nTTAA,1\n")
    hf = load_task_from(tmp_path / "hf", "task")
    assert hf.content_hash == flat.content_hash
    assert discover_tasks(tmp_path / "hf") == {"task": d}


def test_content_hash_changes_with_content(tmp_path):
    a = read_flat_file(write_flat(tmp_path / "a.csv", GOOD))
    b = read_flat_file(write_flat(tmp_path / "b.csv", GOOD[:-1] + [("TTAA", 0, "test")]))
    assert a.content_hash != b.content_hash


@pytest.mark.parametrize(
    "rows, message",
    [
        (GOOD + [("ACGX", 0, "train")], r"line 6: invalid character 'X' at position 4"),
        (GOOD + [("", 0, "train")], r"line 6: empty sequence"),
        (GOOD + [("ACGT", 0, "valid")], r"line 6: unknown or missing split 'valid'"),
        (GOOD + [("ACGT", "pos", "train")], r"line 6: label 'pos' is not an integer"),
        (GOOD + [("ACGT", "1.5", "train")], r"line 6: label '1.5' is not an integer"),
        (GOOD + [("ACGT", "1.0", "train")], r"line 6: label '1.0' is not an integer"),  # as int() in the harness
        (GOOD + [("ACGT", 7, "test")], r"label\(s\) \[7\] appear in test but not in train"),
        ([("ACGT", 0, "train"), ("ACGT", 0, "train"), ("ACGT", 0, "test")], "single class in train"),
        ([("ACGT", 0, "train"), ("ACGT", 1, "train")], "has no 'test' rows"),
    ],
)
def test_bad_input_names_file_and_record(tmp_path, rows, message):
    f = write_flat(tmp_path / "bad.csv", rows)
    with pytest.raises(TaskDataError, match=message) as exc:
        read_flat_file(f)
    assert "bad.csv" in str(exc.value)


def test_byte_order_mark_and_megabase_sequences_are_read(tmp_path):
    long = "ACGT" * 300_000  # 1.2 Mb in one CSV field (GENEB has 1 Mb-context models)
    f = tmp_path / "bom.csv"
    f.write_bytes(b"\xef\xbb\xbf" + f"text,label,split\n{long},0,train\nACGT,1,train\nGG,0,test\n".encode())
    t = read_flat_file(f)
    assert t.train.sequences[0] == long and t.train.labels.tolist() == [0, 1]


def test_truncated_gzip_names_the_file_and_check_goes_on(tmp_path, capsys):
    good = write_flat(tmp_path / "good.csv", GOOD)
    raw = gzip.compress(good.read_bytes() * 50)
    (tmp_path / "cut.csv.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(TaskDataError, match=r"cut\.csv\.gz: cannot read it \(truncated or corrupt compressed file"):
        read_flat_file(tmp_path / "cut.csv.gz")
    assert main(["data", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL cut: " in out and "ok   good:" in out and "1 of 2 tasks valid" in out


def test_missing_columns(tmp_path):
    f = write_flat(tmp_path / "bad.csv", [("ACGT", 0)], header="sequence,label")
    with pytest.raises(TaskDataError, match=r"missing column\(s\) \['text', 'split'\]"):
        read_flat_file(f)


def test_missing_split_file_in_hf_layout(tmp_path):
    d = tmp_path / "tasks" / "t"
    d.mkdir(parents=True)
    (d / "train.csv").write_text("text,label\nACGT,0\nACGA,1\n")
    with pytest.raises(TaskDataError, match="missing test.csv"):
        load_task_from(tmp_path, "t")


def test_normalize_sequence_rejects_non_dna():
    assert normalize_sequence(" acgtn ", "x") == "ACGTN"
    with pytest.raises(TaskDataError, match=r"rec 7: invalid character '-'"):
        normalize_sequence("AC-GT", "rec 7")


def test_cli_data_check(tmp_path, capsys):
    write_flat(tmp_path / "good.csv", GOOD)
    assert main(["data", "check", str(tmp_path)]) == 0
    assert "1 of 1 tasks valid" in capsys.readouterr().out
    write_flat(tmp_path / "bad.csv", GOOD + [("ACGZ", 0, "train")])
    assert main(["data", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL bad" in out and "invalid character 'Z'" in out and "1 of 2 tasks valid" in out
