//! Real-space masks: soft spheres and soft-edged masks from a map threshold with extension.
