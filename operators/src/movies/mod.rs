//! The movie side of a session: jobs whose unit of work, and of failure, is one movie or
//! micrograph (motion correction, CTF estimation, particle extraction).
//!
//! Their dataflows have one shape: items (a movie with what to do to it) enter at epoch 0, are
//! dealt to workers by their index, and each worker turns its items into results one at a
//! time ([`per_movie`]). A result is the item's own: no worker's result depends on which other
//! items it was given, so the output is the same for any number of workers.

pub mod per_movie;
