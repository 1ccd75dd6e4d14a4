"""/metrics under the server sums the value files that every process writes in
PROMETHEUS_MULTIPROC_DIR. A process creates its file empty and sizes it a moment later;
a scrape in that moment must not fail (it did: a 500 in CI's run of
tests/production/test_delivery_worker.py, while the delivery worker made its first file)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from service.observability.metrics import metrics_text

NAME = "comments_webhook_attempts"


def _write_counter(directory: Path, pid: int, value: float) -> None:
    """A counter file as a process of the server writes it."""
    values = MmapedDict(str(directory / f"counter_{pid}.db"))
    key = mmap_key(NAME, NAME + "_total", ["result"], ["delivered"], "Webhook attempts.")
    values.write_value(key, value, 0.0)
    values.close()


def _delivered(text: bytes) -> float:
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            if sample.name == NAME + "_total" and sample.labels == {"result": "delivered"}:
                return float(sample.value)
    raise AssertionError(text.decode())


@pytest.fixture
def multiproc_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return tmp_path


def test_a_file_not_yet_sized_is_left_out_and_the_others_are_summed(multiproc_dir: Path) -> None:
    _write_counter(multiproc_dir, 101, 2)
    _write_counter(multiproc_dir, 102, 3)
    (multiproc_dir / "counter_103.db").touch()  # opened, not yet sized (or killed there)
    (multiproc_dir / "histogram_103.db").write_bytes(b"\0" * 4)  # shorter than its header

    text = metrics_text(lambda: {"pending": 0})

    assert _delivered(text) == 5
    assert b"comments_moderation_queue_size" in text


def test_the_library_alone_fails_on_such_a_file(multiproc_dir: Path) -> None:
    """What WorkerFiles guards against: prometheus_client's own collector raises (so if a
    release fixes it, this test says the guard can go)."""
    _write_counter(multiproc_dir, 101, 2)
    (multiproc_dir / "counter_103.db").touch()
    with pytest.raises(struct.error):
        list(MultiProcessCollector(None, path=str(multiproc_dir)).collect())  # type: ignore[no-untyped-call]


def test_a_corrupt_file_with_its_header_still_fails_loudly(multiproc_dir: Path) -> None:
    """Only files without a header are skipped: one that claims more than it holds is
    corrupt, and hiding it would hide lost counts."""
    _write_counter(multiproc_dir, 101, 2)
    (multiproc_dir / "counter_104.db").write_bytes(struct.pack("ii", 64, 0) + struct.pack("i", 999))
    with pytest.raises(RuntimeError, match="corrupted"):
        metrics_text(lambda: {"pending": 0})
