//! This computer's CPU, memory and disks, read with `sysinfo`.

use shotline_protocol::DiskSpace;
use sysinfo::{Disks, System};

/// File systems that are not disks.
const NOT_DISKS: &[&str] = &[
    "tmpfs", "devtmpfs", "ramfs", "overlay", "squashfs", "efivarfs", "autofs", "proc", "sysfs",
];

/// CPU, memory and disks, from one `sysinfo` reader kept between reports (CPU use is the
/// share busy since the previous reading).
pub struct Sampler {
    system: System,
}

impl Default for Sampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Sampler {
    /// A reader; its first CPU figure covers the time from here to the first `sample`.
    pub fn new() -> Self {
        let mut system = System::new();
        system.refresh_cpu_usage();
        Self { system }
    }

    /// CPU %, memory total and available, and the disks, largest first.
    pub fn sample(&mut self) -> (f64, u64, u64, Vec<DiskSpace>) {
        self.system.refresh_cpu_usage();
        self.system.refresh_memory();
        let mut disks: Vec<DiskSpace> = Vec::new();
        for disk in Disks::new_with_refreshed_list().list() {
            let fs = disk.file_system().to_string_lossy();
            let mount = disk.mount_point().display().to_string();
            if disk.total_space() == 0
                || NOT_DISKS.contains(&fs.as_ref())
                || disks.iter().any(|d| d.mount == mount)
            {
                continue;
            }
            disks.push(DiskSpace {
                mount,
                name: disk.name().to_string_lossy().into_owned(),
                free_bytes: disk.available_space(),
                total_bytes: disk.total_space(),
                removable: disk.is_removable(),
            });
        }
        disks.sort_by(|a, b| {
            b.total_bytes
                .cmp(&a.total_bytes)
                .then(a.mount.cmp(&b.mount))
        });
        (
            f64::from(self.system.global_cpu_usage()).clamp(0.0, 100.0),
            self.system.total_memory(),
            self.system.available_memory(),
            disks,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sampler_reads_this_computer() {
        let mut sampler = Sampler::new();
        let (cpu, total, available, disks) = sampler.sample();
        assert!((0.0..=100.0).contains(&cpu));
        assert!(total > 0 && available <= total, "{available} of {total}");
        assert!(!disks.is_empty(), "no disk found");
        assert!(
            disks
                .iter()
                .all(|d| d.total_bytes > 0 && d.free_bytes <= d.total_bytes)
        );
    }
}
