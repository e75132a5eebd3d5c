"""The one writer (compiler/write.py): whole files or nothing, on real files and folders."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from compiler.errors import InvalidInput
from compiler.write import place_atomically, write_atomically


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_text_and_bytes_are_written_as_given_and_nothing_else_is_left(tmp_path):
    target = tmp_path / "deep" / "state.json"
    write_atomically(target, "é\r\nline\n")  # UTF-8, newlines untranslated
    assert target.read_bytes() == "é\r\nline\n".encode()
    write_atomically(target, b"\x00\xffbinary", durable=True)
    assert target.read_bytes() == b"\x00\xffbinary"
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.json"]


def test_a_file_is_private_unless_a_mode_is_given(tmp_path):
    write_atomically(tmp_path / "plan.json", "{}")
    assert mode_of(tmp_path / "plan.json") == 0o600
    write_atomically(tmp_path / "component_partitions.yaml", "a: 1\n", mode=0o644)
    assert mode_of(tmp_path / "component_partitions.yaml") == 0o644
    write_atomically(tmp_path / "helm", b"#!/bin/sh\n", mode=0o755)
    assert mode_of(tmp_path / "helm") == 0o755


def test_a_reader_sees_the_old_file_or_the_new_one_never_a_part(tmp_path):
    target = tmp_path / "f"
    old, new = b"o" * 1_000_000, b"n" * 1_000_000
    write_atomically(target, old)
    seen: set[bytes] = set()
    stop = threading.Event()

    def read():
        while not stop.is_set():
            seen.add(target.read_bytes())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(20):
            write_atomically(target, new if i % 2 == 0 else old)
    finally:
        stop.set()
        reader.join()
    assert seen and seen <= {old, new}


def test_a_failed_write_is_ais955_and_removes_its_temporary_file(tmp_path):
    folder = tmp_path / "full"
    folder.mkdir()
    (folder / "f").mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(InvalidInput) as caught:
        write_atomically(folder / "f", "data")
    assert caught.value.diagnostics[0].code == "AIS955"
    assert [p.name for p in folder.iterdir()] == ["f"]


def test_a_symlinked_folder_inside_the_application_is_refused_before_writing(tmp_path):
    app, elsewhere = tmp_path / "app", tmp_path / "elsewhere"
    app.mkdir()
    elsewhere.mkdir()
    (app / "aisprint").symlink_to(elsewhere)
    with pytest.raises(InvalidInput) as caught:
        write_atomically(app / "aisprint" / "designs" / "x.yaml", "x", inside=app)
    assert caught.value.diagnostics[0].code == "AIS952"
    assert list(elsewhere.iterdir()) == []


def test_place_copies_or_moves_a_file_under_a_hidden_name_first(tmp_path):
    source, bucket = tmp_path / "photo.jpg", tmp_path / "bucket"
    source.write_bytes(b"jpeg")
    bucket.mkdir()
    place_atomically(source, bucket / "photo.jpg")
    assert (bucket / "photo.jpg").read_bytes() == b"jpeg" and source.exists()
    place_atomically(source, bucket / "moved.jpg", move=True)
    assert (bucket / "moved.jpg").read_bytes() == b"jpeg" and not source.exists()
    assert sorted(p.name for p in bucket.iterdir()) == ["moved.jpg", "photo.jpg"]


def test_a_failed_place_raises_oserror_and_leaves_no_part(tmp_path):
    source, bucket = tmp_path / "photo.jpg", tmp_path / "bucket"
    source.write_bytes(b"jpeg")
    bucket.mkdir()
    (bucket / "photo.jpg").mkdir()  # in the way
    with pytest.raises(OSError):
        place_atomically(source, bucket / "photo.jpg")
    assert [p.name for p in bucket.iterdir()] == ["photo.jpg"] and source.exists()
