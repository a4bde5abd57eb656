# Rewrites use sites of cryoflux-kernels' old flat module paths to the grouped ones
# (branch layout-kernels). Apply to the other crates once after the merge, then delete:
#
#   find operators dataflow tests formats -name '*.rs' -exec sed -i -f kernels-paths.sed {} +
#
# Module moves:
#   geometry::   euler, healpix, symmetry, sampling
#   fourier::    fft, shift, ctf, projector, backprojector, spectrum, filter, rescale
#   resolution:: fsc, masked_fsc, phase_randomise, guinier, sharpening
#   unchanged:   grid, random, mask, reconstruct, estep
# Idempotent: a rewritten path no longer matches any rule.

# 1. Grouped imports: `use cryoflux_kernels::{fft, sampling::OrientationSampling, ...};`, on one
#    line or over several (the statement is joined up to its `;` first). Item heads follow `{`
#    or `,` (and any white space or line break). A head written as a path (`ctf::…`) is always
#    rewritten; a bare head (`fft,`) too, except `fsc`, `shift` and `masked_fsc`, which are also
#    function names inside their modules: bare, they are rewritten only as the group's first
#    item (write `resolution::fsc` by hand elsewhere; the compiler points at any that is left).
/cryoflux_kernels::{/ {
  :join
  /;/! {
    N
    b join
  }
  s/\([{,][[:space:]]*\)\(euler\|healpix\|symmetry\|sampling\)\(::\|[[:space:]]*[,}]\)/\1geometry::\2\3/g
  s/\([{,][[:space:]]*\)\(fft\|shift\|ctf\|projector\|backprojector\|spectrum\|filter\|rescale\)::/\1fourier::\2::/g
  s/\([{,][[:space:]]*\)\(fft\|ctf\|projector\|backprojector\|spectrum\|filter\|rescale\)\([[:space:]]*[,}]\)/\1fourier::\2\3/g
  s/\(cryoflux_kernels::{[[:space:]]*\)shift\([[:space:]]*[,}]\)/\1fourier::shift\2/
  s/\([{,][[:space:]]*\)\(fsc\|masked_fsc\|phase_randomise\|guinier\|sharpening\)::/\1resolution::\2::/g
  s/\([{,][[:space:]]*\)\(phase_randomise\|guinier\|sharpening\)\([[:space:]]*[,}]\)/\1resolution::\2\3/g
  s/\(cryoflux_kernels::{[[:space:]]*\)\(fsc\|masked_fsc\)\([[:space:]]*[,}]\)/\1resolution::\2\3/
}

# 2. Paths: `use cryoflux_kernels::ctf::{Ctf, CtfVariant};`, `use cryoflux_kernels::fft;`,
#    inline `cryoflux_kernels::fft::forward(..)`, doc links [`cryoflux_kernels::masked_fsc`].
s/cryoflux_kernels::\(euler\|healpix\|symmetry\|sampling\)\b/cryoflux_kernels::geometry::\1/g
s/cryoflux_kernels::\(fft\|shift\|ctf\|projector\|backprojector\|spectrum\|filter\|rescale\)\b/cryoflux_kernels::fourier::\1/g
s/cryoflux_kernels::\(fsc\|masked_fsc\|phase_randomise\|guinier\|sharpening\)\b/cryoflux_kernels::resolution::\1/g

# 3. Projector and BackProjector: their five layout accessors became one, `geometry()`, which
#    returns a `fourier::padded::PaddedGeometry` with public fields of the same names:
#    `bp.ori_size()` → `bp.geometry().ori_size` (likewise pixel_size, padding, r_max,
#    interpolation). Rewritten where the receiver's name ends in `projector` (projector,
#    backprojector, self.projector, s1.backprojector, …) or is `bp`; any other receiver is left
#    to the compiler ("no method named `ori_size`").
s/\(projector\|\bbp\)\.\(ori_size\|pixel_size\|padding\|r_max\|interpolation\)()/\1.geometry().\2/g
