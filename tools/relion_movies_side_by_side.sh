#!/bin/sh
# Movies in, side by side with RELION 3.1.3, against the simulation's truth (issue 11's proof):
#
#   cryoflux simulate --movies   ground truth: movies, gain, picks, true tracks, poses and CTFs
#   motion correction            relion_run_motioncorr --use_own  |  cryoflux motioncorr
#   CTF estimation               cryoflux ctffind (on each set of micrographs)
#   extraction                   relion_preprocess --extract      |  cryoflux extract
#   reconstruction               cryoflux reconstruct --ctf with the TRUE poses of the picks
#   polishing                    relion_motion_refine on cryoflux motioncorr's metadata, the
#                                particles cryoflux extracted, their half maps (cryoflux
#                                reconstruct --subset) and cryoflux postprocess STAR
#
# Usage: tools/relion_movies_side_by_side.sh outdir [movies [movie_size [frames]]]
#   outdir      created; the simulation and every job directory go to outdir/sim
#   movies      number of simulated movies (default 2)
#   movie_size  frame size in px (default 512)
#   frames      frames per movie (default 16)
# Environment: CRYOFLUX (the binary, default `cryoflux` on the PATH), SIM_FLAGS (more
#   `cryoflux simulate` flags, e.g. "--snr 1 --seed 3"), THREADS (per program, default 2),
#   RELION_TIMEOUT (seconds per RELION program, default 600), POLISH (0: no polishing).
# Needs relion_run_motioncorr and relion_preprocess (RELION 3.1.3; relion_motion_refine for
# the polishing), python3 with numpy, mrcfile and starfile.
#
# Four particle sets are extracted from the same picks (coordinates/movieNNN_pick.star), all at
# the simulation's box (48 px at 1.8 Å for the bundled map), normalised (--bg_radius 20 px) and
# contrast-inverted, all with CTFs from cryoflux ctffind:
#   cryoflux        cryoflux motioncorr → cryoflux ctffind → cryoflux extract
#   relion_extract  cryoflux motioncorr → cryoflux ctffind → relion_preprocess (same star file)
#   relion          relion_run_motioncorr → cryoflux ctffind → relion_preprocess
#   cryoflux_bias1  as cryoflux with --extract_bias_x 1 (a control: extraction one pixel off)
# Each particle gets the true angles of its pick and the origin (Å) that moves the pick onto the
# true centre, alternate picks in half sets 1 and 2 (outdir/sim/Posed/<set>.star).
#
# Printed, one line each (units: px, Å):
#   shift_error: <program> movie=<name> rms_px=<RMS over frames of |shift − true shift|>
#   extraction: max_rel_diff=<max |cryoflux − RELION| / stddev of RELION's image> particles=<n>
#   fsc_vs_truth: set=<set> fsc05_A=<Å> fsc0143_A=<Å> mean_fsc=<mean over shells 1…N/2>
#   polish: exit=<relion_motion_refine status> shiny_particles=<n> track_files=<n>
#   polish_tracks: rms_A=<RMS |RELION's track − true track| over particles and frames>
#     centred_rms_A=<the same with each track's mean removed> true_motion_rms_A=<RMS of the
#     true tracks about their means>
#   (the polish lines only when relion_motion_refine is installed and POLISH is not 0)
set -eu

if [ $# -lt 1 ] || [ $# -gt 4 ]; then
    echo "usage: $0 outdir [movies [movie_size [frames]]]" >&2
    exit 2
fi
out=$1
movies=${2:-2}
size=${3:-512}
frames=${4:-16}
cryoflux=${CRYOFLUX:-cryoflux}
threads=${THREADS:-2}
relion_timeout=${RELION_TIMEOUT:-600}
here=$(cd "$(dirname "$0")" && pwd)
truth_map=$here/../dataflow/jobs/simulate/assets/1hpv_box48_1.8A.mrc

for program in relion_run_motioncorr relion_preprocess python3 "$cryoflux"; do
    if ! command -v "$program" >/dev/null 2>&1; then
        echo "$program is not on the PATH" >&2
        exit 3
    fi
done
case $cryoflux in
    /*) ;;
    *) cryoflux=$(command -v "$cryoflux") ;;
esac
mkdir -p "$out"
sim=$(cd "$out" && pwd)/sim
rm -rf "$sim"

# The simulation: the bundled 1HPV map (box 48, 1.8 Å), 1 e/Å² per frame, 300 kV.
# shellcheck disable=SC2086 # SIM_FLAGS is a list of flags
"$cryoflux" simulate --movies "$movies" --movie_size "$size" --frames "$frames" \
    --o "$sim" --j "$threads" ${SIM_FLAGS:-} >"$out/simulate.log" 2>&1
cd "$sim"
log() { echo "$*" >&2; }
trap 'status=$?; [ "$status" -eq 0 ] || echo "failed (exit $status): see the *.log files in $sim" >&2' EXIT

# Job directories: RELION finds the picks of MotionCorr/jobNNN/movies/movieNNN.mrc as
# <coord_dir>movies/movieNNN_pick.star only for job directories named jobNNN, so cryoflux's
# motion correction goes to MotionCorr/job002/ and RELION's to MotionCorr/job102/ (CtfFind
# likewise job003/job103).
mc_cryoflux=MotionCorr/job002 mc_relion=MotionCorr/job102
ctf_cryoflux=CtfFind/job003 ctf_relion=CtfFind/job103

# Motion correction: the same flags for both (RELION's names and units).
motion="--i movies.star --gainref gain.mrc --dose_weighting --angpix 1.8 --voltage 300
    --dose_per_frame 1 --preexposure 0 --bin_factor 1 --bfactor 150 --patch_x 1 --patch_y 1"
log "motion correction"
# shellcheck disable=SC2086
"$cryoflux" motioncorr $motion --o "$mc_cryoflux/" --j "$threads" >cryoflux_motioncorr.log 2>&1
# shellcheck disable=SC2086
timeout "$relion_timeout" relion_run_motioncorr $motion --o "$mc_relion/" --use_own \
    --j "$threads" >relion_motioncorr.log 2>&1

# CTF estimation on each set of micrographs (256 px tiles, 30–5 Å, defocus 0.5–5 µm).
log "CTF estimation"
for jobs in "$mc_cryoflux $ctf_cryoflux" "$mc_relion $ctf_relion"; do
    # shellcheck disable=SC2086 # two directories, split on purpose
    set -- $jobs
    "$cryoflux" ctffind --i "$1/corrected_micrographs.star" --o "$2/" \
        --Box 256 --ResMin 30 --ResMax 5 --dFMin 5000 --dFMax 50000 --j "$threads" \
        >"ctffind_$(basename "$2").log" 2>&1
done

# Extraction from the simulated picks.
log "extraction"
mkdir -p Picks/movies
cp coordinates/*_pick.star Picks/movies/
extract="--coord_dir Picks/ --coord_suffix _pick.star --extract --extract_size 48 --norm
    --bg_radius 20 --invert_contrast"
extract_with() { # program name micrographs_ctf.star [flags]: into Extract/<name>/
    program=$1 name=$2 star=$3
    shift 3
    if [ "$program" = relion ]; then
        # shellcheck disable=SC2086
        timeout "$relion_timeout" relion_preprocess --i "$star" $extract \
            --part_dir "Extract/$name/" --part_star "Extract/$name/particles.star" "$@" \
            >"extract_$name.log" 2>&1
    else
        # shellcheck disable=SC2086
        "$cryoflux" extract --i "$star" $extract --part_dir "Extract/$name/" \
            --part_star "Extract/$name/particles.star" --j "$threads" "$@" \
            >"extract_$name.log" 2>&1
    fi
}
extract_with cryoflux cryoflux "$ctf_cryoflux/micrographs_ctf.star"
extract_with relion relion_extract "$ctf_cryoflux/micrographs_ctf.star"
extract_with relion relion "$ctf_relion/micrographs_ctf.star"
extract_with cryoflux cryoflux_bias1 "$ctf_cryoflux/micrographs_ctf.star" --extract_bias_x 1

python3 - "$movies" "$mc_relion" "$mc_cryoflux" <<'EOF'
"""Shift errors against the truth, the extraction difference, and the true poses."""
import os
import sys

import mrcfile
import numpy as np
import starfile

def shifts(path):
    table = starfile.read(path)["global_shift"]
    return table[["rlnMicrographShiftX", "rlnMicrographShiftY"]].to_numpy(float)

for movie in range(1, int(sys.argv[1]) + 1):
    name = f"movie{movie:03d}"
    truth = shifts(f"truth/motion/{name}.star")
    for program, job in (("relion", sys.argv[2]), ("cryoflux", sys.argv[3])):
        error = shifts(f"{job}/movies/{name}.star") - truth
        rms = np.sqrt((error ** 2).sum(axis=1).mean())
        print(f"shift_error: {program} movie={name} rms_px={rms:.4f}")

stacks = {}
def image(name):
    index, stack = name.split("@")
    if stack not in stacks:
        stacks[stack] = mrcfile.mmap(stack, permissive=True).data
    return np.asarray(stacks[stack][int(index) - 1], dtype=np.float64)

def particles(set_name):
    return starfile.read(f"Extract/{set_name}/particles.star", always_dict=True)

ours, theirs = particles("cryoflux"), particles("relion_extract")
a, b = ours["particles"], theirs["particles"]
assert len(a) == len(b), f"{len(a)} particles extracted by cryoflux, {len(b)} by RELION"
worst = max(np.abs(image(x) - image(y)).max() / image(y).std()
            for x, y in zip(a["rlnImageName"], b["rlnImageName"]))
print(f"extraction: max_rel_diff={worst:.3e} particles={len(a)}")

truth = starfile.read("truth/particles.star", always_dict=True)
true_rows = truth["particles"]
pixel = float(truth["optics"]["rlnImagePixelSize"][0])
true_mic = true_rows["rlnMicrographName"].map(os.path.basename)
os.makedirs("Posed", exist_ok=True)
for set_name in ("cryoflux", "relion_extract", "relion", "cryoflux_bias1"):
    star = particles(set_name)
    rows = star["particles"].copy()
    bias = 1.0 if set_name.endswith("bias1") else 0.0
    for i, row in rows.iterrows():
        # The pick (the extracted coordinate less any --extract_bias) and its true particle.
        pick_x, pick_y = row["rlnCoordinateX"] - bias, row["rlnCoordinateY"]
        same = true_rows[(true_mic == os.path.basename(row["rlnMicrographName"]))]
        d = np.hypot(same["rlnCoordinateX"] - pick_x, same["rlnCoordinateY"] - pick_y)
        t = same.loc[d.idxmin()]
        assert d.min() <= 1.0, f"{set_name}: no true particle within 1 px of pick {i}"
        for angle in ("rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi"):
            rows.loc[i, angle] = t[angle]
        # RELION: centre = coordinate − origin / pixel size, with the box taken as centred on
        # the pick (so the biased control's boxes are one pixel off).
        rows.loc[i, "rlnOriginXAngst"] = (pick_x - t["rlnCoordinateX"]) * pixel \
            + t["rlnOriginXAngst"]
        rows.loc[i, "rlnOriginYAngst"] = (pick_y - t["rlnCoordinateY"]) * pixel \
            + t["rlnOriginYAngst"]
        rows.loc[i, "rlnRandomSubset"] = i % 2 + 1
    rows["rlnRandomSubset"] = rows["rlnRandomSubset"].astype(int)
    star["particles"] = rows
    starfile.write(star, f"Posed/{set_name}.star", overwrite=True)
EOF

# Reconstructions with the true poses, each against the true map.
mkdir -p Reconstruct
for set in cryoflux relion_extract relion cryoflux_bias1; do
    "$cryoflux" reconstruct --i "Posed/$set.star" --o "Reconstruct/$set.mrc" --ctf \
        --j "$threads" >"reconstruct_$set.log" 2>&1
    "$cryoflux" image --i "Reconstruct/$set.mrc" --fsc "$truth_map" >"Reconstruct/$set.fsc"
    awk -v set="$set" '
        /^#.*FSC = 0.5:/ { r05 = $(NF - 3) }
        /^#.*FSC = 0.143:/ { r0143 = $(NF - 3) }
        !/^#/ && $1 > 0 { sum += $3; shells += 1 }
        END { printf "fsc_vs_truth: set=%s fsc05_A=%s fsc0143_A=%s mean_fsc=%.4f\n",
              set, r05, r0143, sum / shells }' "Reconstruct/$set.fsc"
done

# Bayesian polishing by RELION on our motion metadata: cryoflux motioncorr's
# corrected_micrographs.star and per-movie STAR files, the particles cryoflux extracted with
# their true poses, half maps from those halves and their cryoflux postprocess STAR (masked). The
# simulation's own prior (σ_vel 0.2 Å/dose, σ_div 5000 Å, σ_acc 2 Å/dose) needs no training.
if [ "${POLISH:-1}" = 1 ] && command -v relion_motion_refine >/dev/null 2>&1; then
    log "polishing"
    for half in 1 2; do
        "$cryoflux" reconstruct --i Posed/cryoflux.star --o "Reconstruct/cryoflux_half$half.mrc" \
            --ctf --subset "$half" --j "$threads" >>reconstruct_cryoflux.log 2>&1
    done
    # RELION reads the mask-corrected FSC (rlnFourierShellCorrelationCorrected), which a
    # postprocess writes only with a mask (RELION's own too): a soft sphere of 20 px radius
    # (36 Å at 1.8 Å) with a 3 px edge. No sharpening (an automatic B-factor needs more
    # resolution than a few hundred noisy particles give).
    mkdir -p PostProcess
    "$cryoflux" mask --i Reconstruct/cryoflux_half1.mrc --sphere_radius 20 \
        --width_soft_edge 3 --o PostProcess/mask.mrc >postprocess.log 2>&1
    "$cryoflux" postprocess --i Reconstruct/cryoflux_half1.mrc \
        --half2 Reconstruct/cryoflux_half2.mrc --mask PostProcess/mask.mrc \
        --adhoc_bfac 0 --o PostProcess/postprocess >>postprocess.log 2>&1
    status=0
    timeout "$relion_timeout" relion_motion_refine --i Posed/cryoflux.star \
        --corr_mic "$mc_cryoflux/corrected_micrographs.star" \
        --f PostProcess/postprocess.star --m1 Reconstruct/cryoflux_half1.mrc \
        --m2 Reconstruct/cryoflux_half2.mrc --o Polish/ --fdose 1 --s_vel 0.2 --s_div 5000 \
        --s_acc 2 --combine_frames --only_do_unfinished --j "$threads" \
        >relion_motion_refine.log 2>&1 || status=$?
    shiny=$(grep -c '@Polish/' Polish/shiny.star 2>/dev/null || true)
    tracks=$(find Polish -name '*_tracks.star' 2>/dev/null | wc -l)
    echo "polish: exit=$status shiny_particles=${shiny:-0} track_files=$tracks"
    [ "$status" -ne 0 ] || python3 - <<'EOF'
"""RELION's polished tracks against the true ones (Å from frame 1, particle by particle)."""
import glob
import os

import numpy as np
import starfile

errors, centred, motion = [], [], []
for path in sorted(glob.glob("Polish/movies/*_tracks.star")):
    ours = starfile.read(path, always_dict=True)
    truth = starfile.read(f"truth/motion/{os.path.basename(path)}", always_dict=True)
    for block in (b for b in ours if b != "general"):
        a = ours[block][["rlnOriginXAngst", "rlnOriginYAngst"]].to_numpy(float)
        b = truth[block][["rlnOriginXAngst", "rlnOriginYAngst"]].to_numpy(float)
        errors.append(((a - b) ** 2).sum(axis=1))
        centred.append(((a - a.mean(0) - b + b.mean(0)) ** 2).sum(axis=1))
        motion.append(((b - b.mean(0)) ** 2).sum(axis=1))
def rms(values):
    return np.sqrt(np.mean(values))
print(f"polish_tracks: rms_A={rms(errors):.3f} centred_rms_A={rms(centred):.3f} "
      f"true_motion_rms_A={rms(motion):.3f}")
EOF
fi
