#!/bin/sh
# RELION 3.1.3 3D auto-refine with the options of the GUI's "3D auto-refine" job (no mask), the
# baseline that `cryoflux bench refine` runs beside `cryoflux refine` (notes: refine.md §11).
#
# Usage: tools/relion_refine_side_by_side.sh particles.star reference.mrc outdir diameter_angst [ini_high_angst [healpix_order]]
#   particles.star  RELION 3.1 particle file (image names resolved from the current directory)
#   reference.mrc   initial reference, same box and pixel size (e.g. the truth low-passed to 40 Å)
#   outdir          created; RELION writes outdir/run_* there, its output goes to outdir/relion.log
#   diameter_angst  particle diameter in Å (mask), smaller than the box
#   ini_high_angst  initial low-pass of the reference in Å (default 40)
#   healpix_order   initial angular sampling (default 2: 15° coarse, 7.5° fine; 1: 30°/15°)
# Environment: RELION_RANKS (default 3: a leader and one rank per half set), RELION_THREADS
#   (threads per rank, default 1), RELION_SEED (default 1).
#
# --offset_range and --offset_step are in pixels (5 and 2, the GUI's "5 px / 1 px").
# Each rank runs under GNU /usr/bin/time (when present); its peak resident memory (kB) lands in
# outdir/rank_N.time. The last line printed is
#   side_by_side: wall_s=SECONDS peak_rss_kb_sum=KB ranks=N
# where peak_rss_kb_sum adds the ranks' peaks (an upper bound of the simultaneous total).
set -eu

if [ $# -lt 4 ] || [ $# -gt 6 ]; then
    echo "usage: $0 particles.star reference.mrc outdir diameter_angst [ini_high_angst [healpix_order]]" >&2
    exit 2
fi
particles=$1
reference=$2
out=$3
diameter=$4
ini_high=${5:-40}
healpix_order=${6:-2}
ranks=${RELION_RANKS:-3}
threads=${RELION_THREADS:-1}
seed=${RELION_SEED:-1}

for program in mpirun relion_refine_mpi; do
    if ! command -v "$program" >/dev/null 2>&1; then
        echo "$program is not on the PATH: install RELION 3.1.3 with MPI" >&2
        exit 3
    fi
done
mkdir -p "$out"
rm -f "$out"/rank_*.time

# OpenMPI refuses to start as root without these (containers, CI).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# Every rank runs `sh -c` with $0 = outdir: the wrapper times relion_refine_mpi into
# outdir/rank_<rank>.time, or just runs it without GNU time.
if [ -x /usr/bin/time ]; then
    wrapper='exec /usr/bin/time -f "%M" -o "$0/rank_${OMPI_COMM_WORLD_RANK:-0}.time" relion_refine_mpi "$@"'
else
    wrapper='exec relion_refine_mpi "$@"'
fi

start=$(date +%s.%N)
status=0
mpirun --oversubscribe -n "$ranks" sh -c "$wrapper" "$out" \
    --o "$out/run" --i "$particles" --ref "$reference" \
    --auto_refine --split_random_halves --firstiter_cc --ini_high "$ini_high" \
    --ctf --particle_diameter "$diameter" --flatten_solvent --zero_mask \
    --oversampling 1 --healpix_order "$healpix_order" --auto_local_healpix_order 4 \
    --offset_range 5 --offset_step 2 --sym C1 --low_resol_join_halves 40 \
    --norm --scale --pad 2 --skip_gridding --j "$threads" --random_seed "$seed" \
    --dont_combine_weights_via_disc --pool 3 \
    >"$out/relion.log" 2>&1 || status=$?
end=$(date +%s.%N)
if [ "$status" -ne 0 ]; then
    echo "relion_refine_mpi failed (exit $status); the end of $out/relion.log:" >&2
    tail -n 20 "$out/relion.log" >&2
    exit "$status"
fi

peak=$(for f in "$out"/rank_*.time; do [ -f "$f" ] && tail -n 1 "$f"; done |
    awk '{ s += $1; n += 1 } END { if (n > 0) print s; else print "unmeasured" }')
wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
echo "side_by_side: wall_s=$wall peak_rss_kb_sum=$peak ranks=$ranks"
