//! MRC/MRCS maps and image stacks.
