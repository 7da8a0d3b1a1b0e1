"""Media verification: time and peak memory of one verification against the function's memory.

Method
------
For each file (a 12-megapixel JPEG, 4000 x 3000, and a 40-megapixel PNG, 8000 x 5000, the
largest image the API accepts; generated here with Pillow, under the 10 MiB limit), a fresh
interpreter reads the file and runs ``functions.domain.verification.verify`` on it, as the
verification function does after reading the object: decode, verify, load, orientation, sRGB,
three renditions. The child reports the wall time of ``verify`` (median of the repetitions, each
in its own process), tracemalloc's peak (Python allocations: Pillow's pixel buffers are not
traced by it, see the next figure) and ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (the
process's peak resident memory, interpreter and libraries included: what Lambda's memory limit
bounds). The goal: that peak stays under 80 % of ``MemorySize`` of ``MediaVerifyFunction`` in
template.yaml.

Caveats: Lambda's CPU share grows with its memory (1,769 MB is one vCPU), so times there differ
from this machine's; memory does not.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.benchmarks._core import ROOT, Goal, Row, Run, benchmark, median

MEMORY_SHARE = 0.8

_CHILD = """\
import json, resource, sys, time, tracemalloc
from functions.domain.verification import verify
data = open(sys.argv[1], "rb").read()
tracemalloc.start()
t0 = time.perf_counter()
verdict = verify(data, declared_type=sys.argv[2], declared_bytes=len(data))
t1 = time.perf_counter()
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({
    "seconds": t1 - t0,
    "traced_peak": peak,
    "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "verdict": type(verdict).__name__,
    "renditions": [r.width for r in getattr(verdict, "renditions", [])],
}))
"""


def _image(width: int, height: int, fmt: str, smooth: int) -> bytes:
    """Coarse noise scaled up (``smooth`` pixels per sample): photo-like as a JPEG; as a PNG
    posterised to 8 levels per channel (a graphic), as a 40-megapixel PNG must be to fit 10 MiB."""
    from PIL import Image, ImageOps

    samples = (width // smooth, height // smooth)
    base = Image.frombytes("RGB", samples, os.urandom(samples[0] * samples[1] * 3))
    image = base.resize((width, height), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, "JPEG", quality=92)
    else:
        ImageOps.posterize(image, 3).save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def _memory_size() -> int:
    from infra.template import load_template

    spec = load_template()["Resources"]["MediaVerifyFunction"]["Properties"]
    return int(spec["MemorySize"])


def _measure(path: Path, content_type: str) -> dict[str, float]:
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", _CHILD, str(path), content_type],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


@benchmark("media", "media verification: time and peak memory, 12 MP JPEG and 40 MP PNG, vs MemorySize")
def media_verification(run: Run) -> list[Row]:
    memory_mb = _memory_size()
    limit_mib = memory_mb * MEMORY_SHARE
    rows: list[Row] = []
    cases = (
        ("12 MP JPEG", 4000, 3000, "JPEG", "image/jpeg", 4),
        ("40 MP PNG", 8000, 5000, "PNG", "image/png", 40),
    )
    with tempfile.TemporaryDirectory() as folder:
        for label, width, height, fmt, content_type, smooth in cases:
            data = _image(width, height, fmt, smooth)
            path = Path(folder) / f"{width}x{height}.{fmt.lower()}"
            path.write_bytes(data)
            samples = [_measure(path, content_type) for _ in range(run.reps(3, 1))]
            verdicts = {s["verdict"] for s in samples}
            if verdicts != {"Accepted"}:
                raise RuntimeError(f"{label} ({len(data):,} bytes) was not accepted: {verdicts}")
            rss_mib = max(s["maxrss_kib"] for s in samples) / 1024
            rows += [
                Row(
                    f"{label} ({len(data) / 2**20:.1f} MiB): verify, median",
                    median([s["seconds"] for s in samples]),
                    "s",
                ),
                Row(f"{label}: tracemalloc peak", max(s["traced_peak"] for s in samples) / 2**20, "MiB"),
                Row(
                    f"{label}: peak RSS (ru_maxrss) vs {MEMORY_SHARE:.0%} of MemorySize {memory_mb} MB",
                    rss_mib,
                    "MiB",
                    Goal(limit_mib),
                ),
            ]
    return rows
