#!/usr/bin/env python3
"""Turn an atomic model (PDB) into a band-limited density map (MRC): cryoflux's ground truth.

Each atom becomes a 3D Gaussian of standard deviation --sigma Å holding Z electrons (its atomic
number), so the map is in electrons per Å³. The map is computed *in Fourier space*, exactly: the
transform of a Gaussian atom at r is Z·exp(−2π²σ²|s|²)·exp(−2πi s·r) (s in Å⁻¹), summed over all
atoms on the box's discrete frequencies, multiplied by a raised-cosine low-pass that falls from
1 at --lowpass_start to 0 at --lowpass_end (both in units of Nyquist), and inverse transformed.
So the map has no sampling aliasing and no content at or near Nyquist, which keeps projections,
interpolation and Fourier cropping honest in tests. The molecule's centre of mass (atomic masses)
sits on voxel (N/2, N/2, N/2), RELION's origin; waters (HOH) are left out, ligands kept.

Usage:
    python3 tools/pdb_to_map.py 1hpv.pdb dataflow/assets/1hpv_box48_1.8A.mrc \
        --box 48 --angpix 1.8 [--sigma 1.0] [--lowpass_start 0.8] [--lowpass_end 0.95] \
        [--float16]

Provenance of the bundled map (dataflow/assets/1hpv_box48_1.8A.mrc, written with the defaults
above and --float16): PDB entry 1HPV (HIV-1 protease dimer with the inhibitor VX-478, 1551 atoms
without waters), as shipped by Debian's package pymol-data 2.5.0+dfsg-1, file
usr/share/pymol/data/tut/1hpv.pdb (sha256
5e4a3e559491dcde705665959e34f52b51582c5104d933732a25db92804ba153). To reproduce:
    apt-get download pymol-data && dpkg-deb -x pymol-data_*.deb x
    python3 tools/pdb_to_map.py x/usr/share/pymol/data/tut/1hpv.pdb out.mrc --float16

The demo's map (dataflow/assets/1tii_box48_3.0A.mrc, `cryoflux demo`): PDB entry 1TII (E. coli
heat-labile enterotoxin, an AB5 toxin: one A subunit on a B pentamer, so the whole is
asymmetric; 5469 atoms without waters, ~110 Å across), from the same package, file
usr/share/pymol/data/demo/1tii.pdb (sha256
522267ab679015f696840f5f0124e534f4695310d240a76c030d8f13d19f5d64):
    python3 tools/pdb_to_map.py x/usr/share/pymol/data/demo/1tii.pdb out.mrc --box 48 \
        --angpix 3.0 --float16

Needs numpy and mrcfile (≥ 1.5 for float16, mode 12).
"""

import argparse
import sys

import mrcfile
import numpy as np

# Atomic number (electrons) and mass (Da) of the elements found in proteins and common ligands.
ELEMENTS = {
    "H": (1, 1.008),
    "C": (6, 12.011),
    "N": (7, 14.007),
    "O": (8, 15.999),
    "P": (15, 30.974),
    "S": (16, 32.06),
    "SE": (34, 78.971),
}


def element_of(line, path, number):
    """Element symbol of a PDB ATOM/HETATM line: columns 77–78, else the atom name's first two
    columns without digits (old files such as 1HPV put sequence numbers in columns 73–80)."""
    symbol = line[76:78].strip().upper()
    if symbol not in ELEMENTS:
        symbol = "".join(c for c in line[12:14] if c.isalpha()).upper()
    if symbol not in ELEMENTS:
        sys.exit(f"{path}: line {number}: unknown element in atom name {line[12:16]!r}")
    return symbol


def read_atoms(path):
    """Positions (Å, n×3), atomic numbers and masses of all non-water atoms of a PDB file."""
    xyz, z, mass = [], [], []
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            if not line.startswith(("ATOM", "HETATM")) or line[17:20] == "HOH":
                continue
            try:
                xyz.append([float(line[30:38]), float(line[38:46]), float(line[46:54])])
            except ValueError:
                sys.exit(f"{path}: line {number}: coordinates in columns 31–54 are not numbers")
            zj, mj = ELEMENTS[element_of(line, path, number)]
            z.append(zj)
            mass.append(mj)
    if not xyz:
        sys.exit(f"{path}: no ATOM/HETATM records")
    return np.array(xyz), np.array(z, dtype=float), np.array(mass)


def density(xyz, z, mass, box, angpix, sigma, lowpass_start, lowpass_end):
    """The band-limited map (box³, indices [z, y, x], electrons/Å³), centre of mass at box/2."""
    centre_of_mass = (xyz * mass[:, None]).sum(axis=0) / mass.sum()
    # Positions in Å from array index 0, with the centre of mass on index box/2.
    r = xyz - centre_of_mass + (box // 2) * angpix
    if np.abs(xyz - centre_of_mass).max() > (box // 2) * angpix:
        print("warning: the molecule does not fit in the box", file=sys.stderr)
    s_full = np.fft.fftfreq(box) / angpix  # Å⁻¹ along y and z
    s_half = np.fft.rfftfreq(box) / angpix  # Å⁻¹ along x
    # exp(−2πi s·r) separates into one factor per axis; sum Z·ex·ey·ez over atoms.
    ex = np.exp(-2j * np.pi * np.outer(r[:, 0], s_half))
    ey = np.exp(-2j * np.pi * np.outer(r[:, 1], s_full))
    ez = np.exp(-2j * np.pi * np.outer(r[:, 2], s_full))
    f = np.einsum("j,jz,jy,jx->zyx", z, ez, ey, ex, optimize=True)
    s2 = s_full[:, None, None] ** 2 + s_full[None, :, None] ** 2 + s_half[None, None, :] ** 2
    f *= np.exp(-2 * np.pi**2 * sigma**2 * s2)
    nyquist = 0.5 / angpix
    frac = np.sqrt(s2) / nyquist
    edge = np.clip((frac - lowpass_start) / (lowpass_end - lowpass_start), 0.0, 1.0)
    f *= 0.5 * (1 + np.cos(np.pi * edge))
    # irfftn divides by box³; the continuous density needs 1/(box·angpix)³ instead.
    return np.fft.irfftn(f, s=(box, box, box), axes=(0, 1, 2)) * box**3 / (box * angpix) ** 3


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pdb", help="input atomic model (PDB format)")
    parser.add_argument("mrc", help="output map (MRC)")
    parser.add_argument("--box", type=int, default=48, help="box size in voxels (even)")
    parser.add_argument("--angpix", type=float, default=1.8, help="voxel size in Å")
    parser.add_argument("--sigma", type=float, default=1.0, help="atom Gaussian s.d. in Å")
    parser.add_argument("--lowpass_start", type=float, default=0.8, help="fraction of Nyquist")
    parser.add_argument("--lowpass_end", type=float, default=0.95, help="fraction of Nyquist")
    parser.add_argument("--float16", action="store_true", help="write mode 12 (half the size)")
    args = parser.parse_args()
    if args.box <= 0 or args.box % 2:
        sys.exit(f"--box {args.box}: expected a positive even number of voxels")
    if not 0 < args.lowpass_start < args.lowpass_end <= 1:
        sys.exit("expected 0 < --lowpass_start < --lowpass_end ≤ 1 (fractions of Nyquist)")
    xyz, z, mass = read_atoms(args.pdb)
    rho = density(xyz, z, mass, args.box, args.angpix, args.sigma, args.lowpass_start, args.lowpass_end)
    dtype = np.float16 if args.float16 else np.float32
    with mrcfile.new(args.mrc, overwrite=True) as out:
        out.set_data(rho.astype(dtype))
        out.voxel_size = args.angpix
        out.update_header_stats()
    print(
        f"{args.mrc}: {len(z)} atoms, {z.sum():.0f} electrons, box {args.box} at "
        f"{args.angpix} Å/voxel, map sum × voxel volume = {rho.sum() * args.angpix**3:.0f}"
    )


if __name__ == "__main__":
    main()
