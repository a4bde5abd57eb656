//! Point-group symmetry (C_n, C_nv, C_nh, D_n, D_nv, D_nh, T, T_d, T_h, O, O_h, I1–I5, I_nh) with RELION's axis conventions.
