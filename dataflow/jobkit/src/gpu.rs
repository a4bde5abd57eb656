//! Which CUDA devices this machine shows, found without loading CUDA: the one probe a job
//! runs at start-up when the user asks for a GPU (RELION's `--gpu`), passed to
//! `cryoflux_operators::refine::scorer::select`.
//!
//! It reads what the NVIDIA kernel driver publishes: one folder per GPU under
//! `/proc/driver/nvidia/gpus/` (named by PCI address, its `information` file holding a
//! `Model:` line), and else the device nodes `/dev/nvidia0`, `/dev/nvidia1`, … (a container
//! given the devices but not the driver's `/proc` entries). It does not `dlopen` libcuda (no
//! dynamic-loading crate is in the tree, and this build has no CUDA code to run on a device
//! anyway), costs a few directory reads, and cannot crash on a broken driver. A device it
//! reports may still be unusable (no libcuda, `CUDA_VISIBLE_DEVICES` hiding it): a CUDA
//! scorer confirms by opening the driver before use.

use std::path::Path;

use cryoflux_operators::refine::scorer::CudaProbe;

/// Where [`probe`] looks, in words.
const LOOKED_AT: &str = "/proc/driver/nvidia/gpus, /dev/nvidia[0-9]*";

/// The CUDA devices of this machine; see the module doc.
pub fn probe() -> CudaProbe {
    probe_under(Path::new("/"))
}

/// The CUDA devices visible under `root` as if it were `/` (a test's fake tree): each GPU of
/// `proc/driver/nvidia/gpus` as `<PCI address> <model>`, or when there are none each
/// `dev/nvidia<N>` as `/dev/nvidia<N>`; sorted.
pub fn probe_under(root: &Path) -> CudaProbe {
    let gpus = root.join("proc/driver/nvidia/gpus");
    let mut devices: Vec<String> = entries(&gpus)
        .into_iter()
        .map(|pci| {
            let information = std::fs::read_to_string(gpus.join(&pci).join("information"));
            let model = information.ok().and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("Model:"))
                    .map(|model| model.trim().to_string())
            });
            match model {
                Some(model) => format!("{pci} {model}"),
                None => pci,
            }
        })
        .collect();
    if devices.is_empty() {
        devices = entries(&root.join("dev"))
            .into_iter()
            .filter(|name| {
                name.strip_prefix("nvidia")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|name| format!("/dev/{name}"))
            .collect();
    }
    devices.sort();
    CudaProbe {
        devices,
        looked_at: LOOKED_AT.into(),
    }
}

/// The names in folder `dir` (none when it cannot be read).
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn an_empty_machine_shows_no_device() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join("dev")).unwrap();
        fs::write(root.path().join("dev/nvidiactl"), "").unwrap();
        fs::write(root.path().join("dev/nvidia-uvm"), "").unwrap();
        let found = probe_under(root.path());
        assert!(found.devices.is_empty(), "{found:?}");
        assert_eq!(found.looked_at, LOOKED_AT);
    }

    #[test]
    fn the_drivers_gpu_list_names_each_gpu_and_else_the_device_nodes_count() {
        let root = tempfile::tempdir().unwrap();
        let dev = root.path().join("dev");
        fs::create_dir_all(&dev).unwrap();
        for node in ["nvidia1", "nvidia0", "nvidiactl"] {
            fs::write(dev.join(node), "").unwrap();
        }
        assert_eq!(
            probe_under(root.path()).devices,
            ["/dev/nvidia0", "/dev/nvidia1"]
        );
        let gpus = root.path().join("proc/driver/nvidia/gpus");
        let h100 = gpus.join("0000:c1:00.0");
        fs::create_dir_all(&h100).unwrap();
        fs::write(
            h100.join("information"),
            "Model: \t\t NVIDIA H100 80GB HBM3\nIRQ:   \t\t 123\n",
        )
        .unwrap();
        fs::create_dir_all(gpus.join("0000:01:00.0")).unwrap();
        assert_eq!(
            probe_under(root.path()).devices,
            ["0000:01:00.0", "0000:c1:00.0 NVIDIA H100 80GB HBM3"]
        );
    }
}
