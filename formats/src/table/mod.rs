//! Particle tables: Arrow record batches with RELION labels as columns, stored in Parquet.
