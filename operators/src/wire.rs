//! Serde encodings of kernel types that cross process boundaries in a multi-process run
//! (timely serialises every exchanged or broadcast record with bincode; within one process it
//! hands typed values between threads and never calls these functions).

/// `#[serde(with = "crate::wire::backprojector")]` for a `BackProjector` field: its layout
/// (box N in pixels, pixel size in Å, padding, r_max in unpadded shells, interpolation) and its
/// accumulated values in storage order, rebuilt with `BackProjector::from_parts`. Values are
/// written from the accumulators in place (no copy of the grids on the sending side).
pub mod backprojector {
    use cryoflux_kernels::fourier::backprojector::{BackProjector, BackProjectorOptions};
    use cryoflux_kernels::grid::{Complex64, Interpolation};
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

    /// What is sent, borrowing the accumulators.
    #[derive(Serialize)]
    struct Outgoing<'a> {
        ori_size: usize,
        pixel_size: f64,
        padding: usize,
        r_max: usize,
        nearest_neighbour: bool,
        data: Interleaved<'a>,
        weight: &'a [f64],
    }

    /// What is received; `data` interleaves real and imaginary parts.
    #[derive(Deserialize)]
    struct Incoming {
        ori_size: usize,
        pixel_size: f64,
        padding: usize,
        r_max: usize,
        nearest_neighbour: bool,
        data: Vec<f64>,
        weight: Vec<f64>,
    }

    /// Complex values as one sequence re₀, im₀, re₁, im₁, …
    struct Interleaved<'a>(&'a [Complex64]);

    impl Serialize for Interleaved<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut seq = serializer.serialize_seq(Some(2 * self.0.len()))?;
            for c in self.0 {
                seq.serialize_element(&c.re)?;
                seq.serialize_element(&c.im)?;
            }
            seq.end()
        }
    }

    /// Writes the layout and the accumulated values of `bp`.
    pub fn serialize<S: Serializer>(bp: &BackProjector, serializer: S) -> Result<S::Ok, S::Error> {
        Outgoing {
            ori_size: bp.geometry().ori_size,
            pixel_size: bp.geometry().pixel_size,
            padding: bp.geometry().padding,
            r_max: bp.geometry().r_max,
            nearest_neighbour: bp.geometry().interpolation == Interpolation::NearestNeighbour,
            data: Interleaved(bp.data().data()),
            weight: bp.weight().data(),
        }
        .serialize(serializer)
    }

    /// Reads what [`serialize`] wrote; fails on an invalid layout or wrong value counts.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BackProjector, D::Error> {
        let parts = Incoming::deserialize(deserializer)?;
        if parts.data.len() % 2 != 0 {
            return Err(de::Error::custom(format!(
                "backprojector data: {} numbers; expected (re, im) pairs",
                parts.data.len()
            )));
        }
        let data: Vec<Complex64> = parts
            .data
            .chunks_exact(2)
            .map(|c| Complex64::new(c[0], c[1]))
            .collect();
        let options = BackProjectorOptions {
            padding: parts.padding,
            r_max: Some(parts.r_max),
            interpolation: if parts.nearest_neighbour {
                Interpolation::NearestNeighbour
            } else {
                Interpolation::Trilinear
            },
        };
        BackProjector::from_parts(
            parts.ori_size,
            parts.pixel_size,
            &options,
            &data,
            &parts.weight,
        )
        .map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use crate::maximisation::MResult;
    use crate::records::*;
    use crate::reduction::Node;
    use cryoflux_kernels::grid::{Complex32, FourierImage, HalfGrid};
    use serde::{Serialize, de::DeserializeOwned};
    use timely::Bincode;
    use timely::bytes::arc::BytesMut;
    use timely::communication::Bytesable;

    /// `value` after the bincode round trip timely applies between processes.
    fn across_processes<T: Serialize + DeserializeOwned + Send + 'static>(value: T) -> T {
        let mut bytes = Vec::new();
        Bincode::from(value).into_bytes(&mut bytes);
        Bincode::<T>::from_bytes(BytesMut::from(bytes).freeze()).payload
    }

    fn plan() -> IterationPlan {
        IterationPlan {
            iteration: 2,
            final_iteration: false,
            current_size: 8,
            coarse_size: 6,
            healpix_order: 1,
            local_sigma_deg: Some(7.5),
            symmetry: "D2".into(),
            offset_range_angst: 4.0,
            offset_step_angst: 2.0,
            perturbation_deg: -1.25,
            cross_correlation: false,
            ctf_intact_first_peak: true,
            accuracy_every: 3,
            seed: 11,
            particle_diameter_angst: 60.0,
            current_resolution_angst: 12.5,
            low_resolution_join_angst: 40.0,
            block_size: 32,
            norm_correction: true,
            scale_correction: true,
        }
    }

    fn map() -> MapRecord {
        MapRecord {
            box_size: 2,
            pixel_size: 1.8,
            data: vec![0.5, -1.0, 2.0, f32::MIN_POSITIVE, 3.0, 4.0, 5.0, 6.0],
        }
    }

    fn sums() -> HalfSums {
        let mut sums = HalfSums::new(8, 1.8, 2).unwrap();
        let mut image = FourierImage::zeros(8, 1.8).unwrap();
        image.data_mut().iter_mut().enumerate().for_each(|(i, v)| {
            *v = Complex32::new(i as f32 * 0.1, 1.0 / (i as f32 + 3.0));
        });
        let weights =
            HalfGrid::<f32, 2>::from_vec(8, 1.8, vec![0.7; HalfGrid::<f32, 2>::len_for(8)])
                .unwrap();
        let pose = PoseRecord {
            rot: 10.0,
            tilt: 20.0,
            psi: 30.0,
            origin_angst: [1.5, -0.5],
        };
        sums.backprojector
            .backproject(&image, &weights, &pose.matrix())
            .unwrap();
        sums.groups[1].noise_power[2] = 0.25;
        sums.groups[1].scale_xa = 0.5;
        sums.groups[1].scale_aa = 0.75;
        sums.groups[1].weight_sum = 1.0;
        sums.groups[1].particles = 1;
        sums.weight_sum = 1.0;
        sums.norm_sum = 0.625;
        sums.particles = 1;
        sums.updates.push(ParticleUpdate {
            id: 7,
            half: 2,
            pose,
            log_likelihood: -123.456,
            max_probability: 0.875,
            significant_samples: 12,
            angular_change_deg: 3.5,
            norm: 0.625,
        });
        sums
    }

    #[test]
    fn block_partials_cross_processes_unchanged() {
        let partial = BlockPartial {
            half: 2,
            node: Node { level: 2, index: 1 },
            leaves: 7,
            sums: Ok(sums()),
        };
        let back = across_processes(partial.clone());
        assert!(
            back.sums.as_ref().unwrap().backprojector.weight().data()[..]
                .iter()
                .any(|&w| w > 0.0)
        );
        assert_eq!(back, partial);
        let failed = BlockPartial {
            half: 1,
            node: Node::leaf(0),
            leaves: 1,
            sums: Err("particle 4: non-finite pixel".into()),
        };
        assert_eq!(across_processes(failed.clone()), failed);
    }

    #[test]
    fn particles_references_and_results_cross_processes_unchanged() {
        let particle = ParticleRecord {
            id: 5,
            half: 1,
            block: 2,
            box_size: 2,
            pixel_size: 1.8,
            image: vec![1.0, -2.0, 3.5, 0.0],
            ctf: Some(CtfRecord {
                voltage_kv: 300.0,
                cs_mm: 2.7,
                amplitude_contrast: 0.1,
                defocus_u: 15000.0,
                defocus_v: 14500.0,
                defocus_angle_deg: 33.0,
                phase_shift_deg: 0.0,
                bfactor: 0.0,
                scale: 1.0,
            }),
            pose: PoseRecord::default(),
            group: 3,
            norm: 1.25,
        };
        assert_eq!(across_processes(particle.clone()), particle);
        let reference = ReferenceMsg {
            half: 2,
            map: map(),
            noise: NoiseModel {
                sigma2: vec![vec![1.0, 0.5, 0.25], vec![2.0, 1.0, 0.5]],
                scales: vec![0.75, 1.25],
                average_norm: 0.875,
            },
            ssnr: vec![100.0, 4.0, 0.5],
            sigma_offset_angst: 3.0,
            plan: plan(),
            solvent_mask: Some(SolventMask {
                map: map(),
                correct_fsc: true,
            }),
        };
        assert_eq!(across_processes(reference.clone()), reference);
        let without_mask = ReferenceMsg {
            solvent_mask: None,
            ..reference
        };
        assert_eq!(across_processes(without_mask.clone()), without_mask);
        let result: MResult = Ok(Maximised {
            plan: plan(),
            maps: [map(), map()],
            noise: [
                NoiseModel::new(vec![vec![1.0, 2.0]], 1.0),
                NoiseModel::new(vec![vec![3.0, 4.0]], 0.5),
            ],
            group_particles: [vec![3], vec![4]],
            sigma_offset_angst: [2.0, 2.5],
            fsc: vec![1.0, 0.9, 0.1],
            ssnr: vec![10.0, 1.0, 0.0],
            tau2: vec![5.0, 0.5, 0.0],
            updates: sums().updates,
            stats: IterationStats {
                particles: 1,
                mean_max_probability: 0.875,
                mean_angular_change_deg: 3.5,
                rms_offset_change_angst: 0.25,
                accuracy_rotation_deg: Some(2.5),
                accuracy_translation_angst: None,
                evaluations: 1.5e9,
                log_likelihood: -123.456,
            },
            final_maps: Some(FinalMaps {
                joined: map(),
                unfiltered: [map(), map()],
            }),
        });
        assert_eq!(across_processes(vec![result.clone()]), vec![result]);
    }
}
