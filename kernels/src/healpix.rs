//! HEALPix (NESTED) directions at orders 0–8, as RELION samples projection directions.
