#!/usr/bin/env python3
"""Regenerate the RELION 3.1.3 oracle fixtures used by kernels/tests/geometry_*.rs.

Needs relion_refine (3.1.3) on PATH and numpy + mrcfile. Writes into the current directory:
- relion_directions_<SYM>_o<ORDER>.txt: the coarse, symmetry-reduced HEALPix directions that
  relion_refine lists in data_sampling_directions of run_it001_sampling.star ("rot tilt" in
  degrees, RELION's order), from a one-iteration run on a tiny random stack:
      relion_refine --i p.star --o out/run --ref ref.mrc --iter 1 --healpix_order ORDER
        --sym SYM --particle_diameter 50 --ini_high 30 --K 1 --offset_range 2 --offset_step 2
        --pad 1 --j 1 --random_seed 1 --firstiter_cc --oversampling 0
- relion_symmetry_ops.txt: "SYM flipL r00 r01 r02 r10 ... r22" per operator, parsed from
      relion_refine --sym SYM --print_symmetry_ops
  (flipL = 1 where RELION prints an L matrix, which is then diag(1, 1, -1)).
Usage: python3 generate_relion_fixtures.py [workdir]
"""
import os
import re
import subprocess
import sys
import tempfile

import mrcfile
import numpy as np

DIRECTION_SETS = [("C1", 2), ("C1", 3), ("D2", 2), ("D2", 3), ("D2", 4), ("C4", 2), ("C4", 3),
                  ("O", 2), ("O", 3), ("I2", 3), ("T", 3), ("C2v", 3)]
SYMMETRY_GROUPS = ["C4", "D2", "D3", "Ci", "Cs", "C3v", "C2h", "S4", "D2v", "D3h", "T", "Td",
                   "Th", "O", "Oh", "I1", "I2", "I3", "I4"]


def make_tiny_dataset(work):
    n = 16
    z, y, x = np.mgrid[:n, :n, :n] - n // 2
    ref = np.exp(-((x - 2) ** 2 + y ** 2 + (z + 1) ** 2) / 8.0)
    with mrcfile.new(os.path.join(work, "ref.mrc"), overwrite=True) as m:
        m.set_data(ref.astype(np.float32))
        m.voxel_size = 4.0
    parts = np.random.default_rng(1).normal(size=(4, n, n)).astype(np.float32)
    with mrcfile.new(os.path.join(work, "parts.mrcs"), overwrite=True) as m:
        m.set_data(parts)
        m.voxel_size = 4.0
    with open(os.path.join(work, "p.star"), "w") as f:
        f.write("data_optics\nloop_\n_rlnOpticsGroup\n_rlnOpticsGroupName\n_rlnImagePixelSize\n"
                "_rlnImageSize\n_rlnImageDimensionality\n_rlnVoltage\n_rlnSphericalAberration\n"
                "_rlnAmplitudeContrast\n1 opticsGroup1 4.0 16 2 300 2.7 0.1\n\n"
                "data_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n_rlnMicrographName\n")
        for i in range(4):
            f.write(f"{i + 1:06d}@parts.mrcs 1 mic1.mrc\n")


def relion_directions(work, sym, order):
    root = f"out/{sym}_o{order}"
    os.makedirs(os.path.join(work, "out"), exist_ok=True)
    subprocess.run(["relion_refine", "--i", "p.star", "--o", root, "--ref", "ref.mrc", "--iter", "1",
                    "--healpix_order", str(order), "--sym", sym, "--particle_diameter", "50",
                    "--ini_high", "30", "--K", "1", "--offset_range", "2", "--offset_step", "2",
                    "--pad", "1", "--j", "1", "--random_seed", "1", "--firstiter_cc",
                    "--oversampling", "0"], cwd=work, check=True, capture_output=True)
    text = open(os.path.join(work, root + "_it001_sampling.star")).read()
    block = text.split("data_sampling_directions")[1]
    rows = [line.split() for line in block.splitlines()]
    return [(float(r[0]), float(r[1])) for r in rows if len(r) == 2 and not r[0].startswith("_")]


def relion_symmetry_ops(sym):
    out = subprocess.run(["relion_refine", "--sym", sym, "--print_symmetry_ops"],
                         capture_output=True, text=True).stdout
    ops, flip, lines = [], False, out.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*L\(\d+\)=", line):
            flip = True
        elif re.match(r"\s*R\(\d+\)=", line):
            m = [float(v) for row in lines[i + 1:i + 4] for v in row.split()]
            ops.append((flip, m))
            flip = False
    return ops


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
    os.makedirs(work, exist_ok=True)
    make_tiny_dataset(work)
    for sym, order in DIRECTION_SETS:
        with open(f"relion_directions_{sym}_o{order}.txt", "w") as f:
            f.write(f"# relion_refine 3.1.3 --sym {sym} --healpix_order {order}: rot tilt (deg)\n")
            for rot, tilt in relion_directions(work, sym, order):
                f.write(f"{rot:.4f} {tilt:.4f}\n")
    with open("relion_symmetry_ops.txt", "w") as f:
        f.write("# relion_refine 3.1.3 --sym SYM --print_symmetry_ops: SYM flipL R(row-major)\n")
        for sym in SYMMETRY_GROUPS:
            for flip, m in relion_symmetry_ops(sym):
                f.write(f"{sym} {int(flip)} " + " ".join(f"{v:.6g}" for v in m) + "\n")


if __name__ == "__main__":
    main()
