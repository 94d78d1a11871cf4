"""Measure which printed figures move when the numeric code path changes, and write their tolerances.

    make tolerances [NB="notebooks/03-transformers/lora.ipynb ..."]

Run after ``make execute``, on the machine that made the outputs. Each chapter is re-executed
(nothing stored) on each CPU of ``EMULATED``, under ``qemu-x86_64 -cpu <model>`` with the pinned
code path of ``numerics.py``: another vendor and generation than the host, so every library
dispatches as it would there. Slow (about 15x): measure the chapters you changed. Every code
cell's text outputs are compared with the stored ones:

- identical on every emulated CPU: the cell stays exact (no entry);
- same text and count of numbers, numbers moved: an entry in ``tests/tolerances.yml`` with
  ``rel = SAFETY * (largest relative move)`` and ``abs`` = one unit of the coarsest printed
  digit that moved (a rounding flip), and a ``why`` that records the measurement;
- the text itself changed (a line printed or not, a count in words): reported as a chapter
  to fix, since no tolerance can describe it.

Entries of the chapters measured are replaced; the others are kept.
"""
from __future__ import annotations

import math
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import yaml
from nbval.plugin import coalesce_streams, get_sanitize_patterns

from nbrun import ROOT, chapters, run

sys.path.insert(0, str(ROOT / "tests"))
import numeric_compare as nc  # noqa: E402
import numerics  # noqa: E402

EMULATED = ("Haswell", "EPYC")  # Intel AVX2 (no AVX-512), AMD Zen 1
SAFETY = 3.0
TABLE = ROOT / "tests" / "tolerances.yml"
SKIP_MIME = {"image/png", "image/jpeg", "application/vnd.jupyter.widget-view+json"}
PATTERNS = get_sanitize_patterns((ROOT / "tests" / "sanitize.cfg").read_text())


def sanitize(text: str) -> str:
    for regex, replace in PATTERNS:
        text = re.sub(regex, replace, text)
    return text


def texts(cell) -> list[str]:
    """A code cell's text outputs, coalesced and sanitised as nbval sees them."""
    found = []
    for out in coalesce_streams([nbformat.from_dict(o) for o in cell.get("outputs", [])]):
        if out.output_type == "stream":
            found.append(sanitize(out.text))
        for mime, value in out.get("data", {}).items():
            if mime not in SKIP_MIME and isinstance(value, str):
                found.append(sanitize(value))
    return found


def printed_unit(token: str) -> float:
    """One unit of the last printed digit: '0.9622' -> 1e-4, '6.1e-16' -> 1e-17, '600' -> 1."""
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** (int(exponent or 0) - decimals)


def round_up(x: float) -> float:
    """``x`` rounded up to two significant digits (never below the measurement times SAFETY)."""
    step = 10.0 ** (math.floor(math.log10(x)) - 1)
    return float(f"{math.ceil(x / step) * step:.2g}")


def moves(ref: str, test: str) -> list[tuple[str, str]] | None:
    """The (ref, test) number pairs that differ, or None if the text around them changed."""
    skel_r, skel_t = nc.NUMBER.split(ref), nc.NUMBER.split(test)
    num_r, num_t = nc.NUMBER.findall(ref), nc.NUMBER.findall(test)
    if skel_r != skel_t or len(num_r) != len(num_t):
        return None
    return [(r, t) for r, t in zip(num_r, num_t) if float(r) != float(t)]


def measure(path: Path, cpu: str) -> list[list[str]]:
    nb, seconds = run(path, seed=0, emulate=cpu)
    print(f"  {seconds:6.1f} s  {path.stem} on an emulated {cpu}", flush=True)
    return [texts(c) for c in nb.cells if c.cell_type == "code"]


def entries_for(path: Path, runs: dict[str, list[list[str]]]) -> tuple[dict, list[str]]:
    stored = nbformat.read(path, as_version=4)
    cells = [c for c in stored.cells if c.cell_type == "code"]
    entries, problems = {}, []
    for i, cell in enumerate(cells):
        ref_texts, pairs, worst = texts(cell), [], {}
        for cpu, outs in runs.items():
            for ref, test in zip(ref_texts, outs[i]):
                moved = moves(ref, test)
                if moved is None or len(ref_texts) != len(outs[i]):
                    problems.append(f"{path.stem} code cell {i} (id {cell.get('id')}): text changes on {cpu}")
                    break
                pairs += moved
                for r, t in moved:
                    rel = abs(float(t) - float(r)) / max(abs(float(r)), printed_unit(r))
                    if rel > worst.get("rel", -1):
                        worst = {"rel": rel, "example": f"{r} -> {t} on {cpu}"}
        if pairs:
            rel = round_up(SAFETY * worst["rel"])
            unit = max(printed_unit(r) for r, _ in pairs)
            entries[cell.get("id")] = {
                "rel": rel, "abs": unit,
                "why": (f"code cell {i}: {len(pairs)} printed figure(s) moved on emulated {', '.join(runs)}; "
                        f"largest relative move {worst['rel']:.2g} ({worst['example']}); rel = {SAFETY:g} x that, "
                        f"abs = one printed unit"),
            }
    return entries, problems


def main(args: list[str]) -> int:
    paths = chapters(args)
    here = numerics.cpu_fingerprint()
    for path in paths:
        made_on = nbformat.read(path, as_version=4).metadata.get("dtr", {}).get("outputs_made_on")
        if made_on != here:
            print(f"{path.stem}: outputs were not made on this CPU; run `make execute NB={path}` first")
            return 1
    jobs = [(p, q) for p in paths for q in EMULATED]
    with ProcessPoolExecutor(max_workers=2) as pool:  # one thread each: the machine's two cores
        results = dict(zip(jobs, pool.map(measure, *zip(*jobs))))
    table = yaml.safe_load(TABLE.read_text()) or {}
    failed = 0
    for path in paths:
        entries, problems = entries_for(path, {q: results[(path, q)] for q in EMULATED})
        table.pop(path.stem, None)
        if entries:
            table[path.stem] = entries
        for problem in problems:
            failed += 1
            print("FIX IN THE CHAPTER:", problem)
        print(f"{path.stem}: {len(entries)} cell(s) compared within a tolerance")
    header = "".join(l + "\n" for l in TABLE.read_text().splitlines() if l.startswith("#"))
    TABLE.write_text(header + yaml.safe_dump(dict(sorted(table.items())), sort_keys=False, width=120, allow_unicode=True))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
