# Old → new paths of cryoflux-operators after the job-family layout (branch layout-operators).
# Delete this file once dataflow is rewritten.
#
# Usage (GNU sed, extended regular expressions):
#   sed -i -E -f operators-paths.sed $(grep -rl cryoflux_operators dataflow tests)
# then `cargo fmt` (split `use` lines get regrouped). Idempotent: running it twice changes
# nothing more.
#
# Not covered by paths: `expectation` takes a sixth argument, the scorer
# (`cryoflux_operators::refine::scorer::select()`); glob imports (`records::*`) and `as`
# renames of records, which dataflow does not use.

# 1. Modules that moved under refine/ (all their items moved with them).
s/cryoflux_operators::(expectation|maximisation|noise|projections|reduction)\b/cryoflux_operators::refine::\1/g

# 2. records was split: the records every job shares (CtfRecord, PoseRecord, MapRecord) stay
#    in cryoflux_operators::records; the refinement's moved. A braced `use` list may mix both,
#    so first join a multi-line list onto one line ...
/cryoflux_operators::records::\{[^}]*$/ {
  :join
  N
  /\}/!b join
  s/\{\n[[:space:]]*/{/
  s/,?\n[[:space:]]*\}/}/
  s/\n[[:space:]]*/ /g
}
#    ... then split it into one `use` per item,
:split
s/^([[:space:]]*)use cryoflux_operators::records::\{([A-Za-z0-9_]+), *([^}]*)\};/\1use cryoflux_operators::records::\2;\n\1use cryoflux_operators::records::{\3};/M
t split
s/^([[:space:]]*)use cryoflux_operators::records::\{([A-Za-z0-9_]+),? *\};/\1use cryoflux_operators::records::\2;/M
#    ... and move each refinement record to its new module.
s/cryoflux_operators::records::(ParticleRecord|IterationPlan|ReferenceMsg|NoiseModel|SolventMask|ParticleUpdate|BlockPartial|IterationStats|FinalMaps|Maximised)\b/cryoflux_operators::refine::records::\1/g
s/cryoflux_operators::records::(HalfSums|GroupSums)\b/cryoflux_operators::refine::sums::\1/g
